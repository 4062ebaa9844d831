{#- Rows whose combination of columns is not unique (no dbt_utils: the package hub is out of reach). -#}
{% test revops_unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}

{#- Values of column_name that are not a stage of the given object in the stage_definitions seed:
    the seed, not a literal list, says which stages exist. -#}
{% test revops_known_stage(model, column_name, object_name) %}
    select
        {{ model }}.{{ column_name }}
    from {{ model }}
    left join {{ ref('stage_definitions') }} as stages
        on
            {{ model }}.{{ column_name }} = stages.stage_name
            and stages.object = '{{ object_name }}'
    where
        {{ model }}.{{ column_name }} is not null
        and stages.stage_name is null
{% endtest %}

{#- Rows where an expression is false (a row-level rule between columns). -#}
{% test revops_expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not ({{ expression }})
{% endtest %}
