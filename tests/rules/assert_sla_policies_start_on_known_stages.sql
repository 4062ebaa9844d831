-- An SLA policy whose start_event_value is not a stage of its start_object would never start a
-- clock: fail the build and name the policy.
with

policies as (
    select * from {{ ref('sla_policies') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
),

final as (
    select
        policies.policy_id,
        policies.start_object,
        policies.start_event_value
    from policies
    left join stages
        on
            policies.start_object = stages.object
            and policies.start_event_value = stages.stage_name
    where stages.stage_name is null
)

select * from final
