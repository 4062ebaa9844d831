with

products as (
    select * from {{ ref('stg_stripe__products') }}
    where exclusion_reason is null
),

prices as (
    select * from {{ ref('int_stripe_prices_normalized') }}
),

price_counts as (
    select
        product_id,
        count(*) as price_count
    from prices
    group by product_id
),

final as (
    select
        products.product_id,
        products.product_name,
        products.is_active,
        coalesce(price_counts.price_count, 0) as price_count
    from products
    left join price_counts
        on products.product_id = price_counts.product_id
)

select * from final
