-- Subscription items with their price (current Price API, else legacy Plan) and monthly amount:
-- quantity × unit amount × monthly factor (0 for a one-time price). An item whose price is unknown
-- keeps a null amount and is flagged, never dropped.
with

items as (
    select * from {{ ref('stg_stripe__subscription_items') }}
    where exclusion_reason is null
),

subscriptions as (
    select distinct subscription_id from {{ ref('stg_stripe__subscriptions') }}
    where exclusion_reason is null
),

prices as (
    select * from {{ ref('int_stripe_prices_normalized') }}
),

final as (
    select
        items.subscription_item_id,
        items.subscription_id,
        coalesce(items.price_id, items.plan_id) as price_key,
        prices.price_object,
        prices.product_id,
        items.quantity,
        prices.unit_amount,
        prices.currency,
        prices.billing_interval,
        prices.billing_interval_count,
        prices.is_recurring,
        -- A one-time price is not recurring revenue: it adds 0 to the monthly amount.
        cast(
            case
                when prices.is_recurring then items.quantity * prices.unit_amount * prices.monthly_factor
                when prices.price_key is not null then 0
            end as {{ dbt.type_numeric() }}
        ) as monthly_amount,
        prices.price_key is null as has_unknown_price,
        items.created_at
    from items
    inner join subscriptions
        on items.subscription_id = subscriptions.subscription_id
    left join prices
        on coalesce(items.price_id, items.plan_id) = prices.price_key
)

select * from final
