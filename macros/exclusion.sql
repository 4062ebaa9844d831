{#- Why a raw row leaves the model (null = it stays). Salesforce marks a merged-away record as
    deleted and sets master_record_id to the survivor, so "merged" is tested first.
    Stripe test-mode rows (livemode false) are not revenue: test_mode. -#}
{% macro exclusion_reason(is_deleted='is_deleted', master_record_id=none, is_current_version=none, is_livemode=none) -%}
    case
        {%- if master_record_id is not none %}
        when {{ master_record_id }} is not null then 'merged'
        {%- endif %}
        when coalesce({{ is_deleted }}, false) then 'deleted'
        {%- if is_livemode is not none %}
        when not coalesce({{ is_livemode }}, true) then 'test_mode'
        {%- endif %}
        {%- if is_current_version is not none %}
        when not coalesce({{ is_current_version }}, true) then 'superseded_version'
        {%- endif %}
    end
{%- endmacro %}
