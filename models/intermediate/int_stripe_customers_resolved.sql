-- Each Stripe customer mapped to one CRM account: by the explicit link in its metadata (followed
-- through merge chains), else by its email domain equal to an account's website domain (personal
-- mail domains never match), else unmatched. Several accounts sharing a domain are duplicates:
-- the oldest one wins and domain_candidate_count says how many there were.
with

customers as (
    select * from {{ ref('stg_stripe__customers') }}
    where exclusion_reason is null
),

accounts as (
    select * from {{ ref('stg_salesforce__accounts') }}
    where exclusion_reason is null
),

merged_records as (
    select * from {{ ref('int_merged_records_resolved') }}
    where object_name = 'account'
),

personal_email_domains as (
    select * from {{ ref('personal_email_domains') }}
),

domain_accounts as (
    select
        website_domain,
        account_id,
        count(*) over (partition by website_domain) as domain_candidate_count,
        row_number() over (partition by website_domain order by created_at, account_id) as domain_rank
    from accounts
    where website_domain is not null
),

first_domain_accounts as (
    select * from domain_accounts
    where domain_rank = 1
),

resolved as (
    select
        customers.customer_id,
        customers.linked_crm_account_id,
        merged_records.surviving_record_id as linked_surviving_account_id,
        customers.email_domain,
        first_domain_accounts.account_id as domain_account_id,
        first_domain_accounts.domain_candidate_count,
        personal_email_domains.email_domain is not null as is_personal_email_domain
    from customers
    left join merged_records
        on customers.linked_crm_account_id = merged_records.record_id
    left join personal_email_domains
        on customers.email_domain = personal_email_domains.email_domain
    left join first_domain_accounts
        on
            customers.email_domain = first_domain_accounts.website_domain
            and personal_email_domains.email_domain is null
),

final as (
    select
        customer_id,
        coalesce(linked_surviving_account_id, domain_account_id) as crm_account_id,
        coalesce(linked_surviving_account_id, domain_account_id, customer_id) as account_key,
        case
            when linked_surviving_account_id is not null then 'crm_link'
            when domain_account_id is not null then 'domain'
            else 'unmatched'
        end as match_method,
        linked_crm_account_id,
        linked_crm_account_id is not null and linked_surviving_account_id is null as has_invalid_crm_link,
        email_domain,
        is_personal_email_domain,
        case when linked_surviving_account_id is null then domain_candidate_count end
            as domain_candidate_count
    from resolved
)

select * from final
