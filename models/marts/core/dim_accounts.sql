-- One row per real company: every surviving CRM account (with the Stripe customers resolved to
-- it) plus every Stripe customer no account could be resolved to. account_key is the CRM account
-- id when there is one, else the Stripe customer id.
with

accounts as (
    select * from {{ ref('stg_salesforce__accounts') }}
    where exclusion_reason is null
),

customers as (
    select * from {{ ref('stg_stripe__customers') }}
    where exclusion_reason is null
),

customers_resolved as (
    select * from {{ ref('int_stripe_customers_resolved') }}
),

merged_records as (
    select * from {{ ref('int_merged_records_resolved') }}
    where object_name = 'account'
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

customer_summary as (
    select
        customers_resolved.crm_account_id,
        count(*) as stripe_customer_count,
        min(customers_resolved.customer_id) as stripe_customer_id,
        min(customers_resolved.match_method) as match_method
    from customers_resolved
    where customers_resolved.crm_account_id is not null
    group by customers_resolved.crm_account_id
),

merge_summary as (
    select
        surviving_record_id as account_id,
        count(*) as merged_record_count
    from merged_records
    where merge_depth > 0 and surviving_record_id is not null
    group by surviving_record_id
),

crm_accounts as (
    select
        accounts.account_id as account_key,
        accounts.account_id as crm_account_id,
        customer_summary.stripe_customer_id,
        coalesce(customer_summary.stripe_customer_count, 0) as stripe_customer_count,
        coalesce(customer_summary.match_method, 'crm_only') as match_method,
        accounts.account_name,
        accounts.website_domain,
        accounts.industry,
        accounts.number_of_employees,
        accounts.annual_revenue,
        accounts.billing_country,
        -- A spelling the country_codes seed does not know stays visible (upper-cased) so the
        -- country_code format rule reports it, instead of looking like a missing value.
        coalesce(country_codes.country_code, upper(accounts.billing_country)) as billing_country_code,
        accounts.account_type,
        accounts.account_source,
        accounts.owner_user_id,
        accounts.parent_account_id,
        coalesce(merge_summary.merged_record_count, 0) as merged_record_count,
        accounts.created_by_user_id,
        accounts.created_at,
        accounts.last_modified_at,
        accounts.last_activity_date,
        true as is_in_crm,
        customer_summary.stripe_customer_id is not null as is_in_billing
    from accounts
    left join customer_summary
        on accounts.account_id = customer_summary.crm_account_id
    left join merge_summary
        on accounts.account_id = merge_summary.account_id
    left join country_codes
        on lower(accounts.billing_country) = country_codes.country_alias
),

billing_only as (
    select
        customers.customer_id as account_key,
        cast(null as {{ dbt.type_string() }}) as crm_account_id,
        customers.customer_id as stripe_customer_id,
        1 as stripe_customer_count,
        'billing_only' as match_method,
        customers.customer_name as account_name,
        case when not customers_resolved.is_personal_email_domain then customers.email_domain end
            as website_domain,
        cast(null as {{ dbt.type_string() }}) as industry,
        cast(null as {{ dbt.type_bigint() }}) as number_of_employees,
        cast(null as {{ dbt.type_numeric() }}) as annual_revenue,
        cast(null as {{ dbt.type_string() }}) as billing_country,
        cast(null as {{ dbt.type_string() }}) as billing_country_code,
        cast(null as {{ dbt.type_string() }}) as account_type,
        cast(null as {{ dbt.type_string() }}) as account_source,
        cast(null as {{ dbt.type_string() }}) as owner_user_id,
        cast(null as {{ dbt.type_string() }}) as parent_account_id,
        0 as merged_record_count,
        cast(null as {{ dbt.type_string() }}) as created_by_user_id,
        customers.created_at,
        cast(null as {{ dbt.type_timestamp() }}) as last_modified_at,
        cast(null as date) as last_activity_date,
        false as is_in_crm,
        true as is_in_billing
    from customers
    inner join customers_resolved
        on customers.customer_id = customers_resolved.customer_id
    where customers_resolved.match_method = 'unmatched'
),

final as (
    select * from crm_accounts
    union all
    select * from billing_only
)

select * from final
