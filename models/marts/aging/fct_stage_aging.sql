-- One row per open opportunity and open lead: how long it has been in its current stage (calendar
-- and business days of its owner's calendar, to as_of), against the stage's target from the
-- stage_definitions seed, with an aging bucket (aging_buckets seed: multiples of the target) and a
-- stale flag: no stage change and no logged activity for at least the target × the lowest
-- multiple of the aging buckets flagged is_stale.
with

lead_intervals as (
    select * from {{ ref('fct_lead_status_history') }}
    where is_current
),

opportunity_intervals as (
    select * from {{ ref('fct_opportunity_stage_history') }}
    where is_current
),

people as (
    select * from {{ ref('dim_contacts') }}
    where person_type = 'lead'
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

users as (
    select * from {{ ref('dim_users') }}
),

last_activities as (
    select * from {{ ref('int_activities_aggregated') }}
),

business_days as (
    select * from {{ ref('int_business_days_calendared') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
),

aging_buckets as (
    select * from {{ ref('aging_buckets') }}
),

-- Always one row: the multiple of the target from which an untouched record is stale (null when
-- no bucket is flagged is_stale: then nothing is stale).
stale_multiple as (
    select min(aging_buckets.min_target_multiple) as stale_target_multiple
    from aging_buckets
    where aging_buckets.is_stale
),

current_stages as (
    select
        'lead' as object_name,
        lead_intervals.lead_id as record_id,
        lead_intervals.lead_status as stage_name,
        lead_intervals.entered_at,
        people.owner_id as owner_user_id,
        people.created_at
    from lead_intervals
    inner join people
        on lead_intervals.lead_id = people.lead_id
    union all
    select
        'opportunity' as object_name,
        opportunity_intervals.opportunity_id as record_id,
        opportunity_intervals.stage_name,
        opportunity_intervals.entered_at,
        opportunities.owner_user_id,
        opportunities.created_at
    from opportunity_intervals
    inner join opportunities
        on opportunity_intervals.opportunity_id = opportunities.opportunity_id
),

open_records as (
    select
        stages.object as object_name,
        current_stages.record_id,
        current_stages.stage_name,
        stages.stage_order,
        stages.funnel_step,
        stages.target_days_in_stage,
        current_stages.entered_at,
        current_stages.created_at,
        current_stages.owner_user_id,
        users.user_name as owner_name,
        users.team_name as owner_team,
        -- As in the SLA marts: an owner without a known region or time zone (a queue, an unmapped
        -- zone) is counted in the project's default calendar.
        coalesce(users.calendar_region, '{{ var("default_calendar_region") }}') as calendar_region,
        coalesce(users.time_zone, '{{ var("default_time_zone") }}') as time_zone,
        users.calendar_region is null or users.time_zone is null as is_default_calendar,
        last_activities.last_activity_at,
        -- The last touch: the stage change itself or a later logged activity.
        case
            when last_activities.last_activity_at > current_stages.entered_at
                then last_activities.last_activity_at
            else current_stages.entered_at
        end as last_touched_at,
        {{ dbt.datediff('current_stages.entered_at', as_of_timestamp(), 'minute') }}
        / 1440.0 as days_in_stage
    from current_stages
    inner join stages
        on
            current_stages.object_name = stages.object
            and current_stages.stage_name = stages.stage_name
    left join users
        on current_stages.owner_user_id = users.user_id
    left join last_activities
        on
            current_stages.object_name = last_activities.object_name
            and current_stages.record_id = last_activities.record_id
    where stages.is_open
),

measured as (
    select
        open_records.*,
        -- Working days after the entry day up to and including as_of's day, both local dates of
        -- the owner's time zone, in the owner's calendar.
        cast(as_of_days.working_day_number - entered_days.working_day_number as {{ dbt.type_bigint() }})
            as business_days_in_stage,
        {{ dbt.datediff('open_records.created_at', as_of_timestamp(), 'day') }}
            as age_days,
        open_records.days_in_stage / nullif(open_records.target_days_in_stage, 0) as target_multiple,
        {{ dbt.datediff('open_records.last_touched_at', as_of_timestamp(), 'minute') }}
        / 1440.0 as days_since_last_touch,
        open_records.target_days_in_stage * stale_multiple.stale_target_multiple as stale_after_days
    from open_records
    cross join stale_multiple
    left join business_days as entered_days
        on
            open_records.calendar_region = entered_days.calendar_region
            and cast({{ utc_to_local('open_records.entered_at', 'open_records.time_zone') }} as date)
            = entered_days.calendar_date
    left join business_days as as_of_days
        on
            open_records.calendar_region = as_of_days.calendar_region
            and cast({{ utc_to_local(as_of_timestamp(), 'open_records.time_zone') }} as date)
            = as_of_days.calendar_date
),

final as (
    select
        measured.object_name,
        measured.record_id,
        measured.stage_name,
        measured.stage_order,
        measured.funnel_step,
        measured.entered_at,
        measured.days_in_stage,
        measured.business_days_in_stage,
        measured.age_days,
        measured.target_days_in_stage,
        measured.target_multiple,
        aging_buckets.bucket_name as aging_bucket,
        measured.last_activity_at,
        measured.last_touched_at,
        measured.days_since_last_touch,
        measured.stale_after_days,
        coalesce(measured.days_since_last_touch >= measured.stale_after_days, false) as is_stale,
        measured.owner_user_id,
        measured.owner_name,
        measured.owner_team,
        measured.calendar_region,
        measured.time_zone,
        measured.is_default_calendar,
        measured.created_at
    from measured
    left join aging_buckets
        on
            measured.target_multiple >= aging_buckets.min_target_multiple
            and (
                aging_buckets.max_target_multiple is null
                or measured.target_multiple < aging_buckets.max_target_multiple
            )
)

select * from final
