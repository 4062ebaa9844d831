-- For every source table: raw rows, the rows the unified model holds, and the rows it left out,
-- by reason. A dbt test fails the build unless raw_rows = modelled_rows + excluded_rows.
{%- set tables = [
    ('salesforce', 'account', 'stg_salesforce__accounts',
        "select count(*) from " ~ ref('dim_accounts') ~ " where crm_account_id is not null"),
    ('salesforce', 'contact', 'stg_salesforce__contacts',
        "select count(*) from " ~ ref('dim_contacts') ~ " where person_type = 'contact'"),
    ('salesforce', 'lead', 'stg_salesforce__leads',
        "select count(distinct lead_id) from " ~ ref('fct_lead_status_history')),
    ('salesforce', 'lead_history', 'stg_salesforce__lead_field_changes',
        "select coalesce(sum(history_row_count), 0) from " ~ ref('fct_lead_status_history')
        ~ ") + (select count(*) from " ~ ref('fct_lead_field_changes')),
    ('salesforce', 'opportunity', 'stg_salesforce__opportunities',
        "select count(*) from " ~ ref('fct_opportunities')),
    ('salesforce', 'opportunity_history', 'stg_salesforce__opportunity_changes',
        "select coalesce(sum(history_row_count), 0) from " ~ ref('fct_opportunity_stage_history')),
    ('salesforce', 'task', 'stg_salesforce__tasks',
        "select count(*) from " ~ ref('fct_activities')),
    ('salesforce', 'user', 'stg_salesforce__users',
        "select count(*) from " ~ ref('dim_users')),
    ('salesforce', 'user_role', 'stg_salesforce__user_roles',
        "select count(*) from " ~ ref('int_user_roles_leveled')),
    ('stripe', 'customer', 'stg_stripe__customers',
        "select count(*) from " ~ ref('int_stripe_customers_resolved')),
    ('stripe', 'subscription', 'stg_stripe__subscriptions',
        "select count(*) from " ~ ref('fct_subscriptions')),
    ('stripe', 'subscription_item', 'stg_stripe__subscription_items',
        "select count(*) from " ~ ref('int_subscription_items_priced')),
    ('stripe', 'price', 'stg_stripe__prices',
        "select count(*) from " ~ ref('int_stripe_prices_normalized') ~ " where price_object = 'price'"),
    ('stripe', 'plan', 'stg_stripe__plans',
        "select count(*) from " ~ ref('int_stripe_prices_normalized') ~ " where price_object = 'plan'"),
    ('stripe', 'product', 'stg_stripe__products',
        "select count(*) from " ~ ref('dim_products')),
] %}

with

excluded as (
    select * from {{ ref('audit_excluded_records') }}
),

excluded_summary as (
    select
        source_table,
        count(*) as excluded_rows,
        sum(case when exclusion_reason = 'deleted' then 1 else 0 end) as deleted_rows,
        sum(case when exclusion_reason = 'merged' then 1 else 0 end) as merged_rows,
        sum(case when exclusion_reason = 'superseded_version' then 1 else 0 end) as superseded_rows,
        sum(case when exclusion_reason in ('parent_excluded', 'parent_missing') then 1 else 0 end)
            as parent_excluded_rows,
        sum(case when exclusion_reason = 'field_name_missing' then 1 else 0 end) as field_name_missing_rows
    from excluded
    group by source_table
),

counts as (
    {% for source_name, source_table, staging_model, modelled_sql in tables -%}
        select
            '{{ source_name }}' as source_name,
            '{{ source_table }}' as source_table,
            (select count(*) from {{ ref(staging_model) }}) as raw_rows,
            ({{ modelled_sql }}) as modelled_rows
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        counts.source_name,
        counts.source_table,
        counts.raw_rows,
        counts.modelled_rows,
        coalesce(excluded_summary.excluded_rows, 0) as excluded_rows,
        coalesce(excluded_summary.deleted_rows, 0) as deleted_rows,
        coalesce(excluded_summary.merged_rows, 0) as merged_rows,
        coalesce(excluded_summary.superseded_rows, 0) as superseded_rows,
        coalesce(excluded_summary.parent_excluded_rows, 0) as parent_excluded_rows,
        coalesce(excluded_summary.field_name_missing_rows, 0) as field_name_missing_rows,
        counts.raw_rows - counts.modelled_rows - coalesce(excluded_summary.excluded_rows, 0)
            as unaccounted_rows
    from counts
    left join excluded_summary
        on counts.source_table = excluded_summary.source_table
)

select * from final
