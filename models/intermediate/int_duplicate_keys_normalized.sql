-- One row per duplicate rule × record of its object: the record's normalized match key (the
-- duplicate_rule_keys in key_order, each normalized as the seed says, joined by '|'; null when a
-- key field is empty). Generated from the seeds at run time, so a new rule is a seed row. The
-- duplicate groups (int_duplicate_keys_grouped) and the Great Expectations uniqueness suites both
-- read these keys, so the normalization is written once.
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
        {%- if rule['object'] not in objects %}
        {{ exceptions.raise_compiler_error(
            "duplicate_rules row " ~ rule['rule_id'] ~ ": unknown object '" ~ rule['object']
            ~ "'; use one of " ~ objects.keys() | list | join(', ')) }}
        {%- endif %}
        {%- set object = objects[rule['object']] %}
        {%- set rule_keys = keys | selectattr('rule_id', 'equalto', rule['rule_id']) | list %}
        {%- if rule_keys | length == 0 %}
        {{ exceptions.raise_compiler_error("duplicate_rules row " ~ rule['rule_id'] ~ ": no rows in duplicate_rule_keys") }}
        {%- endif %}
        {%- set parts = [] %}
        {%- for key in rule_keys %}
            {%- do revops_check_rule_field('duplicate_rule_keys', rule['rule_id'], rule['object'], key['field']) %}
            {%- if key['normalization'] not in normalizations %}
            {{ exceptions.raise_compiler_error(
                "duplicate_rule_keys row " ~ rule['rule_id'] ~ "/" ~ key['field'] ~ ": unknown normalization '"
                ~ key['normalization'] ~ "'; use one of " ~ normalizations.keys() | list | join(', ')) }}
            {%- endif %}
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

final as (
    select
        keyed.rule_id || ':' || keyed.record_id as duplicate_key_id,
        keyed.rule_id,
        rules.object as object_name,
        keyed.record_id,
        keyed.match_key
    from keyed
    inner join rules
        on keyed.rule_id = rules.rule_id
)

select * from final
