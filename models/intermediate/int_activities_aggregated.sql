-- One row per record that has activities: its latest activity and how many, for each object an
-- activity can concern (the lead or contact it is about, the opportunity, the account). The one
-- place "last touched" comes from, for stage aging and the hygiene records; activities after the
-- as_of var are not counted.
with

-- Activities logged after the as_of var do not exist yet for a build as of that moment.
activities as (
    select * from {{ ref('fct_activities') }}
    where occurred_at <= {{ as_of_timestamp() }}
),

unioned as (
    select
        person_type as object_name,
        person_id as record_id,
        occurred_at
    from activities
    where person_id is not null
    union all
    select
        'opportunity' as object_name,
        opportunity_id as record_id,
        occurred_at
    from activities
    where opportunity_id is not null
    union all
    select
        'account' as object_name,
        crm_account_id as record_id,
        occurred_at
    from activities
    where crm_account_id is not null
),

final as (
    select
        object_name,
        record_id,
        max(occurred_at) as last_activity_at,
        count(*) as activity_count
    from unioned
    group by object_name, record_id
)

select * from final
