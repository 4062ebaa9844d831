-- One row per duplicate rule × record that shares its normalized match key with another record of
-- the same object. The match-key expression is generated from the duplicate_rule_keys seed at run
-- time (keys in key_order, each normalized as the seed says), so a new rule is a seed row.
{%- set objects = hygiene_objects() %}
{%- set rules = revops_seed_rows('duplicate_rules', 'rule_id') %}
{%- set keys = revops_seed_rows('duplicate_rule_keys', 'rule_id, key_order') %}
{%- set normalizations = {
    'email': normalize_email,
    'domain': url_domain,
    'text': clean_text,
} %}

with

rules as (
    select * from {{ ref('duplicate_rules') }}
),

keyed as (
    {%- for rule in rules %}
        {%- set object = objects.get(rule['object']) %}
        {%- set rule_keys = keys | selectattr('rule_id', 'equalto', rule['rule_id']) | list %}
        {%- if rule_keys | length == 0 %}
        {{ exceptions.raise_compiler_error("duplicate_rules row " ~ rule['rule_id'] ~ ": no rows in duplicate_rule_keys") }}
    {%- endif %}
        {%- set parts = [] %}
        {%- for key in rule_keys %}
            {%- do revops_check_rule_field('duplicate_rule_keys', rule['rule_id'], rule['object'], key['field']) %}
            {%- do parts.append('lower(' ~ normalizations[key['normalization']](key['field']) ~ ')') %}
        {%- endfor %}
        select
            '{{ rule["rule_id"] }}' as rule_id,
            {{ object['key'] }} as record_id,
            {{ parts | join(" || '|' || ") }} as match_key
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
        cast(null as {{ dbt.type_string() }}) as match_key
    where 1 = 0
    {%- endif %}
),

grouped as (
    select
        *,
        count(*) over (partition by rule_id, match_key) as group_size
    from keyed
    where match_key is not null
),

final as (
    select
        grouped.rule_id || ':' || grouped.record_id as duplicate_member_id,
        grouped.rule_id,
        rules.object as object_name,
        grouped.record_id,
        grouped.rule_id || ':' || grouped.match_key as duplicate_group_id,
        grouped.match_key,
        grouped.group_size,
        rules.severity,
        rules.owner_role
    from grouped
    inner join rules
        on grouped.rule_id = rules.rule_id
    where grouped.group_size > 1
)

select * from final
