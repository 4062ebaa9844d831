-- Every raw row that does not enter the unified model, with the reason. Own reasons (deleted,
-- merged, superseded version, Stripe test mode) come from staging; a history or item row also
-- leaves when its parent record left or never existed, and a lead history row without a field
-- name leaves as field_name_missing. audit_source_row_reconciliation proves raw = modelled +
-- excluded for every source table.
{%- set own_reasons = [
    ('account', 'stg_salesforce__accounts', 'account_id', 'master_record_id'),
    ('contact', 'stg_salesforce__contacts', 'contact_id', 'master_record_id'),
    ('lead', 'stg_salesforce__leads', 'lead_id', 'master_record_id'),
    ('opportunity', 'stg_salesforce__opportunities', 'opportunity_id', none),
    ('task', 'stg_salesforce__tasks', 'task_id', none),
    ('user', 'stg_salesforce__users', 'user_id', none),
    ('user_role', 'stg_salesforce__user_roles', 'user_role_id', none),
    ('customer', 'stg_stripe__customers', 'customer_id', none),
    ('subscription', 'stg_stripe__subscriptions', 'subscription_id', none),
    ('price', 'stg_stripe__prices', 'price_id', none),
    ('plan', 'stg_stripe__plans', 'plan_id', none),
    ('product', 'stg_stripe__products', 'product_id', none),
] %}

with

{% for source_table, model, key, master in own_reasons -%}
    {{ source_table }}_rows as (
        select
            '{{ source_table }}' as source_table,
            {{ key }} as record_id,
            exclusion_reason,
            {% if master is not none -%}
                {{ master }}
            {%- else -%}
                cast(null as {{ dbt.type_string() }})
            {%- endif %} as related_record_id
        from {{ ref(model) }}
        where exclusion_reason is not null
    ),

{% endfor -%}

opportunities as (
    select * from {{ ref('stg_salesforce__opportunities') }}
),

opportunity_changes as (
    select * from {{ ref('stg_salesforce__opportunity_changes') }}
),

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
),

lead_field_changes as (
    select * from {{ ref('stg_salesforce__lead_field_changes') }}
),

subscriptions as (
    select * from {{ ref('stg_stripe__subscriptions') }}
),

subscription_items as (
    select * from {{ ref('stg_stripe__subscription_items') }}
),

opportunity_history_rows as (
    select
        'opportunity_history' as source_table,
        opportunity_changes.opportunity_history_id as record_id,
        case
            when opportunity_changes.exclusion_reason is not null then opportunity_changes.exclusion_reason
            when opportunities.opportunity_id is null then 'parent_missing'
            else 'parent_excluded'
        end as exclusion_reason,
        opportunity_changes.opportunity_id as related_record_id
    from opportunity_changes
    left join opportunities
        on opportunity_changes.opportunity_id = opportunities.opportunity_id
    where
        opportunity_changes.exclusion_reason is not null
        or opportunities.opportunity_id is null
        or opportunities.exclusion_reason is not null
),

lead_history_rows as (
    select
        'lead_history' as source_table,
        lead_field_changes.lead_history_id as record_id,
        case
            when lead_field_changes.exclusion_reason is not null then lead_field_changes.exclusion_reason
            when leads.lead_id is null then 'parent_missing'
            when leads.exclusion_reason is not null then 'parent_excluded'
            else 'field_name_missing'
        end as exclusion_reason,
        lead_field_changes.lead_id as related_record_id
    from lead_field_changes
    left join leads
        on lead_field_changes.lead_id = leads.lead_id
    where
        lead_field_changes.exclusion_reason is not null
        or leads.lead_id is null
        or leads.exclusion_reason is not null
        -- Status changes and the creation row go to the status intervals, every other named field
        -- to fct_lead_field_changes; a row without a field name cannot be placed.
        or lead_field_changes.field_name is null
),

any_subscriptions as (
    select distinct subscription_id from subscriptions
),

current_subscriptions as (
    select distinct subscription_id from subscriptions
    where exclusion_reason is null
),

subscription_item_rows as (
    select
        'subscription_item' as source_table,
        subscription_items.subscription_item_id as record_id,
        case
            when subscription_items.exclusion_reason is not null then subscription_items.exclusion_reason
            when subscriptions_any.subscription_id is null then 'parent_missing'
            else 'parent_excluded'
        end as exclusion_reason,
        subscription_items.subscription_id as related_record_id
    from subscription_items
    left join current_subscriptions
        on subscription_items.subscription_id = current_subscriptions.subscription_id
    left join any_subscriptions as subscriptions_any
        on subscription_items.subscription_id = subscriptions_any.subscription_id
    where
        subscription_items.exclusion_reason is not null
        or current_subscriptions.subscription_id is null
),

prices as (
    select * from {{ ref('stg_stripe__prices') }}
),

plans as (
    select * from {{ ref('stg_stripe__plans') }}
),

-- The Plans API also serves recurring prices under their price id: the same object twice.
plan_duplicate_rows as (
    select
        'plan' as source_table,
        plans.plan_id as record_id,
        'duplicate_of_price' as exclusion_reason,
        plans.plan_id as related_record_id
    from plans
    inner join prices
        on plans.plan_id = prices.price_id
),

final as (
    {% for source_table, model, key, master in own_reasons -%}
        select * from {{ source_table }}_rows
        union all
    {% endfor -%}
    select * from opportunity_history_rows
    union all
    select * from lead_history_rows
    union all
    select * from subscription_item_rows
    union all
    select * from plan_duplicate_rows
)

select * from final
