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
        -- In the currency's minor unit (cents; yen for zero-decimal currencies).
        cast(amount as {{ dbt.type_numeric() }}) as unit_amount_minor,
        lower({{ clean_text('currency') }}) as currency,
        lower({{ clean_text('interval') }}) as billing_interval,
        coalesce(interval_count, 1) as billing_interval_count,
        coalesce(active, true) as is_active,
        _fivetran_synced as synced_at,
        coalesce(is_deleted, false) as is_deleted,
        -- Prices are a lookup: Stripe keeps billing live subscriptions on a deleted price or plan,
        -- so a deleted one stays (is_deleted says so) instead of leaving the model.
        cast(null as {{ dbt.type_string() }}) as exclusion_reason
    from source
)

select * from renamed
