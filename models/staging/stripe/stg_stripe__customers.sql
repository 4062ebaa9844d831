with

source as (
    select
        {{ staged_columns('stripe', 'customer') }}
    from {{ source('stripe', 'customer') }}
),

renamed as (
    select
        id as customer_id,
        {{ clean_text('name') }} as customer_name,
        {{ normalize_email('email') }} as email,
        {{ email_domain('email') }} as email_domain,
        {{ clean_text('description') }} as description,
        {{ clean_text(json_text('metadata', var('stripe_customer_crm_account_key'))) }} as linked_crm_account_id,
        lower({{ clean_text('currency') }}) as currency,
        coalesce(livemode, true) as is_livemode,
        created as created_at,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        {{ exclusion_reason(is_livemode='livemode') }} as exclusion_reason
    from source
)

select * from renamed
