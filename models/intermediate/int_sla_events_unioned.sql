-- Every event an SLA policy can start or stop on, in one shape: the object and record it happened
-- to, its type (the vocabulary of the sla_policies seed's start_event/end_event) and value (the
-- status or stage entered, the activity type logged), and when. Policies then pick their events by
-- joining the seed; no policy, stage or activity type is named here.
with

lead_statuses as (
    select * from {{ ref('fct_lead_status_history') }}
),

opportunity_stages as (
    select * from {{ ref('fct_opportunity_stage_history') }}
),

activities as (
    select * from {{ ref('fct_activities') }}
),

opportunities as (
    select * from {{ ref('fct_opportunities') }}
),

unioned as (
    select
        'lead' as object_name,
        lead_id as record_id,
        'status_entered' as event_type,
        lead_status as event_value,
        entered_at as event_at,
        status_interval_id as event_source_id
    from lead_statuses
    union all
    select
        'opportunity' as object_name,
        opportunity_id as record_id,
        'stage_entered' as event_type,
        stage_name as event_value,
        entered_at as event_at,
        stage_interval_id as event_source_id
    from opportunity_stages
    union all
    select
        person_type as object_name,
        person_id as record_id,
        'activity_logged' as event_type,
        activity_type as event_value,
        occurred_at as event_at,
        activity_id as event_source_id
    from activities
    where person_id is not null
    union all
    select
        'opportunity' as object_name,
        opportunity_id as record_id,
        'activity_logged' as event_type,
        activity_type as event_value,
        occurred_at as event_at,
        activity_id as event_source_id
    from activities
    where opportunity_id is not null
    union all
    select
        'lead' as object_name,
        converted_from_lead_id as record_id,
        'opportunity_created' as event_type,
        cast(null as {{ dbt.type_string() }}) as event_value,
        created_at as event_at,
        opportunity_id as event_source_id
    from opportunities
    where converted_from_lead_id is not null
),

final as (
    select * from unioned
)

select * from final
