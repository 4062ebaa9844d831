with

source as (
    select
        {{ staged_columns('stripe', 'plan') }}
    from {{ source('stripe', 'plan') }}
),

renamed as (
    select
        id as plan_id,
        product_id,
        -- Stripe amounts are in the currency's minor unit (cents).
        cast(amount as {{ dbt.type_numeric() }}) / 100 as unit_amount,
        lower({{ clean_text('currency') }}) as currency,
        lower({{ clean_text('interval') }}) as billing_interval,
        coalesce(interval_count, 1) as billing_interval_count,
        coalesce(active, true) as is_active,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        {{ exclusion_reason() }} as exclusion_reason
    from source
)

select * from renamed
