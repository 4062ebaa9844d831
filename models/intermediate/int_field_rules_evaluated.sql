-- One row per data-dictionary rule × record of its object: the field's value and whether the
-- record is in the rule's scope (at or past the stage from which the field is required, or any
-- record when the rule has no stage). The select list is generated from the data_dictionary seed
-- at run time: adding a seed row adds a check with no code change, and a row naming an unknown
-- object or field stops the run with an error naming the row.
{%- set objects = hygiene_objects() %}
{%- set rules = revops_seed_rows('data_dictionary', 'rule_id') %}

with

rules as (
    select * from {{ ref('data_dictionary') }}
),

stages as (
    select * from {{ ref('stage_definitions') }}
),

value_formats as (
    select * from {{ ref('value_formats') }}
),

field_values as (
    {%- for rule in rules %}
        {%- do revops_check_rule_field('data_dictionary', rule['rule_id'], rule['object'], rule['field']) %}
        {%- set object = objects[rule['object']] %}
        select
            '{{ rule["rule_id"] }}' as rule_id,
            {{ object['key'] }} as record_id,
            {% if object['stage'] -%}
                {{ object['stage'] }}
            {%- else -%}
                cast(null as {{ dbt.type_string() }})
            {%- endif %} as stage_name,
            cast({{ rule['field'] }} as {{ dbt.type_string() }}) as field_value
        from {{ object['relation'] }}
        where {{ object['where'] }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
    {%- if rules | length == 0 %}
    select
        cast(null as {{ dbt.type_string() }}) as rule_id,
        cast(null as {{ dbt.type_string() }}) as record_id,
        cast(null as {{ dbt.type_string() }}) as stage_name,
        cast(null as {{ dbt.type_string() }}) as field_value
    where 1 = 0
    {%- endif %}
),

scoped as (
    select
        field_values.rule_id || ':' || field_values.record_id as field_check_id,
        field_values.rule_id,
        rules.object as object_name,
        rules.field as field_name,
        field_values.record_id,
        field_values.stage_name,
        record_stages.stage_order,
        required_stages.stage_order as required_from_stage_order,
        nullif(trim(field_values.field_value), '') as field_value,
        rules.is_required,
        rules.allowed_values,
        rules.value_format,
        rules.severity,
        rules.owner_role,
        -- In scope: no stage on the rule, or the record is at or past it in the stage order.
        (
            rules.required_from_stage is null
            or record_stages.stage_order >= required_stages.stage_order
        ) as is_in_scope
    from field_values
    inner join rules
        on field_values.rule_id = rules.rule_id
    left join stages as record_stages
        on
            rules.object = record_stages.object
            and field_values.stage_name = record_stages.stage_name
    left join stages as required_stages
        on
            rules.object = required_stages.object
            and rules.required_from_stage = required_stages.stage_name
),

final as (
    select
        scoped.*,
        coalesce(scoped.is_in_scope and scoped.is_required and scoped.field_value is null, false)
            as is_missing_required,
        coalesce(
            scoped.field_value is not null
            and scoped.allowed_values is not null
            -- exact membership in the pipe-separated list (position, not LIKE: no wildcards)
            and {{ dbt.position(
                "'|' || scoped.field_value || '|'", "'|' || scoped.allowed_values || '|'"
            ) }} = 0,
            false
        ) as is_value_not_allowed,
        coalesce(
            scoped.field_value is not null
            and scoped.value_format is not null
            and not {{ regex_matches('scoped.field_value', 'value_formats.pattern') }},
            false
        ) as is_format_invalid
    from scoped
    left join value_formats
        on scoped.value_format = value_formats.value_format
)

select * from final
