-- One row per SLA instance: every start event of every policy in the sla_policies seed, with its
-- due time in the business calendar of the responsible owner's region and time zone, when (if)
-- the end event met it, elapsed business time and status as of the as_of var. The owner is who
-- owned the record when the clock started.
-- Business time is computed on int_business_days_calendared (running working minutes and working
-- days per region), joined by date: no loop, so it stays fast at millions of instances.
-- Semantics (the same as revops_warehouse.business_time, the Python oracle the tests compare to):
-- business_hours: the earliest moment when that many working minutes have passed since the start
-- (a start outside working hours counts from the next opening); business_days: the same local
-- clock time that many working days after the start, a start outside working hours first moving
-- to the next opening; met when the end event is at or before the due time.
with

policies as (
    select * from {{ ref('sla_policies') }}
),

events as (
    select * from {{ ref('int_sla_events_unioned') }}
),

business_days as (
    select * from {{ ref('int_business_days_calendared') }}
),

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
    where exclusion_reason is null
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

lead_values_at_start as (
    select * from {{ ref('int_lead_field_values_reconstructed') }}
),

record_owners as (
    select
        'lead' as object_name,
        lead_id as record_id,
        owner_id
    from leads
    union all
    select
        'opportunity' as object_name,
        opportunity_id as record_id,
        owner_user_id as owner_id
    from opportunities
),

starts as (
    select
        policies.policy_id || ':' || events.event_source_id as sla_instance_id,
        policies.policy_id,
        policies.policy_name,
        policies.start_object as object_name,
        events.record_id,
        events.event_source_id as start_event_source_id,
        events.event_at as started_at,
        policies.end_event,
        policies.end_event_value,
        policies.target_value,
        policies.target_unit,
        policies.calendar_region as policy_calendar_region,
        policies.escalation_role
    from events
    inner join policies
        on
            events.object_name = policies.start_object
            and events.event_type = policies.start_event
            and events.event_value = policies.start_event_value
),

-- The responsible owner is who owned the record when the clock started: for a lead, from its
-- owner history (int_lead_field_values_reconstructed), else today's owner (opportunities have no
-- owner history in the sources: today's owner).
owners_at_start as (
    select
        event_source_id,
        value_at_event as owner_id
    from lead_values_at_start
    where field_key = 'owner'
),

ends as (
    select
        starts.sla_instance_id,
        min(events.event_at) as met_at
    from starts
    inner join events
        on
            starts.object_name = events.object_name
            and starts.record_id = events.record_id
            and starts.end_event = events.event_type
            and (starts.end_event_value is null or starts.end_event_value = events.event_value)
            and starts.started_at <= events.event_at
    group by starts.sla_instance_id
),

owned as (
    select
        starts.*,
        ends.met_at,
        coalesce(owners_at_start.owner_id, record_owners.owner_id) as owner_user_id,
        users.user_name as owner_name,
        users.team_name as owner_team,
        users.is_active as is_owner_active,
        users.user_id is null as is_owner_unknown,
        case
            when starts.policy_calendar_region = 'owner' then users.calendar_region
            else starts.policy_calendar_region
        end as owner_calendar_region,
        users.time_zone as owner_time_zone
    from starts
    left join ends
        on starts.sla_instance_id = ends.sla_instance_id
    left join record_owners
        on
            starts.object_name = record_owners.object_name
            and starts.record_id = record_owners.record_id
    left join owners_at_start
        on
            starts.object_name = 'lead'
            and starts.start_event_source_id = owners_at_start.event_source_id
    left join users
        on coalesce(owners_at_start.owner_id, record_owners.owner_id) = users.user_id
),

localized as (
    select
        *,
        coalesce(owner_calendar_region, '{{ var("default_calendar_region") }}') as calendar_region,
        coalesce(owner_time_zone, '{{ var("default_time_zone") }}') as time_zone,
        owner_calendar_region is null or owner_time_zone is null as is_default_calendar,
        {{ utc_to_local('started_at', "coalesce(owner_time_zone, '" ~ var('default_time_zone') ~ "')") }}
            as started_at_local,
        {{ utc_to_local(
            'coalesce(met_at, ' ~ as_of_timestamp() ~ ')',
            "coalesce(owner_time_zone, '" ~ var('default_time_zone') ~ "')"
        ) }} as measured_at_local
    from owned
),

positioned as (
    select
        localized.*,
        start_days.working_minutes_before
        + least(
            greatest({{ minute_of_day('localized.started_at_local') }} - start_days.workday_start_minute, 0),
            start_days.working_minutes
        ) as start_business_minute,
        measured_days.working_minutes_before
        + least(
            greatest(
                {{ minute_of_day('localized.measured_at_local') }} - measured_days.workday_start_minute, 0
            ),
            measured_days.working_minutes
        ) as measured_business_minute,
        -- business_days: the next opening (the start itself when inside working hours)
        case
            when
                start_days.is_working_day
                and {{ minute_of_day('localized.started_at_local') }} < start_days.workday_end_minute
                then start_days.working_day_number
            else start_days.working_day_number + 1
        end as opening_working_day_number,
        case
            when
                start_days.is_working_day
                and {{ minute_of_day('localized.started_at_local') }} < start_days.workday_end_minute
                then greatest({{ minute_of_day('localized.started_at_local') }}, start_days.workday_start_minute)
            else start_days.workday_start_minute
        end as opening_minute
    from localized
    left join business_days as start_days
        on
            localized.calendar_region = start_days.calendar_region
            and cast(localized.started_at_local as date) = start_days.calendar_date
    left join business_days as measured_days
        on
            localized.calendar_region = measured_days.calendar_region
            and cast(localized.measured_at_local as date) = measured_days.calendar_date
),

due_by_minutes as (
    select
        positioned.sla_instance_id,
        {{ dbt.dateadd(
            'second',
            'cast(round((due_days.workday_start_minute + positioned.start_business_minute '
            ~ '+ positioned.target_value * 60 - due_days.working_minutes_before) * 60) as '
            ~ dbt.type_bigint() ~ ')',
            'cast(due_days.calendar_date as ' ~ dbt.type_timestamp() ~ ')'
        ) }} as due_at_local,
        positioned.target_value * 60 as target_business_minutes
    from positioned
    inner join business_days as due_days
        on
            positioned.calendar_region = due_days.calendar_region
            and due_days.is_working_day
            and due_days.working_minutes_before < positioned.start_business_minute + positioned.target_value * 60
            and due_days.working_minutes_before + due_days.working_minutes
            >= positioned.start_business_minute + positioned.target_value * 60
    where positioned.target_unit = 'business_hours'
),

due_by_days as (
    select
        positioned.sla_instance_id,
        {{ dbt.dateadd(
            'second',
            'cast(round(positioned.opening_minute * 60) as ' ~ dbt.type_bigint() ~ ')',
            'cast(due_days.calendar_date as ' ~ dbt.type_timestamp() ~ ')'
        ) }} as due_at_local,
        due_days.working_minutes_before
        + positioned.opening_minute - due_days.workday_start_minute
        - positioned.start_business_minute as target_business_minutes
    from positioned
    inner join business_days as due_days
        on
            positioned.calendar_region = due_days.calendar_region
            and due_days.is_working_day
            and due_days.working_day_number
            = positioned.opening_working_day_number + cast(positioned.target_value as {{ dbt.type_int() }})
    where positioned.target_unit = 'business_days'
),

due as (
    select
        positioned.*,
        coalesce(due_by_minutes.target_business_minutes, due_by_days.target_business_minutes)
            as target_business_minutes,
        case
            when positioned.target_unit = 'calendar_hours'
                then {{ dbt.dateadd(
                    'minute', 'cast(positioned.target_value * 60 as ' ~ dbt.type_bigint() ~ ')', 'positioned.started_at'
                ) }}
            when positioned.target_unit = 'calendar_days'
                then {{ dbt.dateadd(
                    'minute', 'cast(positioned.target_value * 1440 as ' ~ dbt.type_bigint() ~ ')', 'positioned.started_at'
                ) }}
            else {{ local_to_utc(
                'coalesce(due_by_minutes.due_at_local, due_by_days.due_at_local)', 'positioned.time_zone'
            ) }}
        end as due_at
    from positioned
    left join due_by_minutes
        on positioned.sla_instance_id = due_by_minutes.sla_instance_id
    left join due_by_days
        on positioned.sla_instance_id = due_by_days.sla_instance_id
),

final as (
    select
        sla_instance_id,
        policy_id,
        policy_name,
        object_name,
        record_id,
        start_event_source_id,
        owner_user_id,
        owner_name,
        owner_team,
        is_owner_active,
        is_owner_unknown,
        escalation_role,
        calendar_region,
        time_zone,
        is_default_calendar,
        target_value,
        target_unit,
        started_at,
        due_at,
        met_at,
        case
            -- a start or as_of outside calendar_first_year..calendar_last_year has no calendar
            when due_at is null then 'calendar_missing'
            when met_at is not null and met_at <= due_at then 'met'
            when met_at is not null then 'breached'
            when {{ as_of_timestamp() }} <= due_at then 'open_within_target'
            else 'open_breached'
        end as sla_status,
        met_at is null as is_open,
        (met_at is not null and met_at > due_at)
        or (met_at is null and {{ as_of_timestamp() }} > due_at) as is_breached,
        measured_business_minute - start_business_minute as elapsed_business_minutes,
        {{ dbt.datediff('started_at', 'coalesce(met_at, ' ~ as_of_timestamp() ~ ')', 'minute') }}
            as elapsed_calendar_minutes,
        target_business_minutes,
        case
            when coalesce(met_at, {{ as_of_timestamp() }}) > due_at
                then {{ dbt.datediff('due_at', 'coalesce(met_at, ' ~ as_of_timestamp() ~ ')', 'minute') }}
            else 0
        end as calendar_minutes_late,
        case
            when target_business_minutes is null then null
            when measured_business_minute - start_business_minute > target_business_minutes
                then measured_business_minute - start_business_minute - target_business_minutes
            else 0
        end as business_minutes_late
    from due
)

select * from final
