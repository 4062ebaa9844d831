-- A data-dictionary row whose required_from_stage is not a stage of its object in the
-- stage_definitions seed would silently never apply: fail the build and name the row.
with

rules as (
    select * from {{ ref('data_dictionary') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
),

final as (
    select
        rules.rule_id,
        rules.object,
        rules.required_from_stage
    from rules
    left join stages
        on
            rules.object = stages.object
            and rules.required_from_stage = stages.stage_name
    where
        rules.required_from_stage is not null
        and stages.stage_name is null
)

select * from final
