-- Nothing is dropped on the way to fct_sla_instances: every start event of every policy (a status
-- or stage entry matching the policy) has exactly one instance.
with

policies as (
    select * from {{ ref('sla_policies') }}
),

events as (
    select * from {{ ref('int_sla_events_unioned') }}
),

instances as (
    select * from {{ ref('fct_sla_instances') }}
),

expected as (
    select
        policies.policy_id,
        count(*) as start_events
    from events
    inner join policies
        on
            events.object_name = policies.start_object
            and events.event_type = policies.start_event
            and events.event_value = policies.start_event_value
    group by policies.policy_id
),

actual as (
    select
        policy_id,
        count(*) as sla_instances
    from instances
    group by policy_id
),

final as (
    select
        expected.policy_id,
        expected.start_events,
        actual.sla_instances
    from expected
    left join actual
        on expected.policy_id = actual.policy_id
    where actual.sla_instances is null or expected.start_events != actual.sla_instances
)

select * from final
