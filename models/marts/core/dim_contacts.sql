-- People: every surviving contact, plus every surviving lead that has not become a contact. A
-- converted lead is linked to the contact it became (converted_from_lead_id); a converted lead
-- whose contact cannot be found stays as a lead row, flagged is_conversion_orphaned.
with

contacts as (
    select * from {{ ref('stg_salesforce__contacts') }}
    where exclusion_reason is null
),

leads as (
    select * from {{ ref('stg_salesforce__leads') }}
    where exclusion_reason is null
),

merged_records as (
    select * from {{ ref('int_merged_records_resolved') }}
),

country_codes as (
    select * from {{ ref('country_codes') }}
),

lead_conversions as (
    select
        leads.lead_id,
        leads.converted_date,
        merged_records.surviving_record_id as converted_contact_id
    from leads
    left join merged_records
        on
            leads.converted_contact_id = merged_records.record_id
            and merged_records.object_name = 'contact'
    where leads.is_converted
),

conversions_per_contact as (
    select
        converted_contact_id as contact_id,
        min(lead_id) as converted_from_lead_id,
        count(*) as converted_lead_count,
        min(converted_date) as converted_date
    from lead_conversions
    where converted_contact_id is not null
    group by converted_contact_id
),

contact_people as (
    select
        contacts.contact_id as person_id,
        'contact' as person_type,
        contacts.contact_id,
        cast(null as {{ dbt.type_string() }}) as lead_id,
        conversions_per_contact.converted_from_lead_id,
        coalesce(conversions_per_contact.converted_lead_count, 0) as converted_lead_count,
        conversions_per_contact.converted_date,
        account_records.surviving_record_id as crm_account_id,
        contacts.account_id as raw_account_id,
        contacts.account_id is not null and account_records.surviving_record_id is null
            as has_orphaned_account,
        false as is_conversion_orphaned,
        contacts.first_name,
        contacts.last_name,
        contacts.email,
        contacts.email_domain,
        contacts.phone,
        contacts.title,
        cast(null as {{ dbt.type_string() }}) as company,
        cast(null as {{ dbt.type_string() }}) as lead_status,
        contacts.lead_source,
        cast(null as {{ dbt.type_bigint() }}) as number_of_employees,
        contacts.mailing_country as country,
        coalesce(country_codes.country_code, upper(contacts.mailing_country)) as country_code,
        contacts.owner_user_id as owner_id,
        contacts.created_by_user_id,
        contacts.created_at,
        contacts.last_modified_at,
        contacts.last_activity_date
    from contacts
    left join conversions_per_contact
        on contacts.contact_id = conversions_per_contact.contact_id
    left join merged_records as account_records
        on
            contacts.account_id = account_records.record_id
            and account_records.object_name = 'account'
    left join country_codes
        on lower(contacts.mailing_country) = country_codes.country_alias
),

lead_people as (
    select
        leads.lead_id as person_id,
        'lead' as person_type,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        leads.lead_id,
        cast(null as {{ dbt.type_string() }}) as converted_from_lead_id,
        0 as converted_lead_count,
        leads.converted_date,
        account_records.surviving_record_id as crm_account_id,
        leads.converted_account_id as raw_account_id,
        leads.converted_account_id is not null and account_records.surviving_record_id is null
            as has_orphaned_account,
        leads.is_converted as is_conversion_orphaned,
        leads.first_name,
        leads.last_name,
        leads.email,
        leads.email_domain,
        leads.phone,
        leads.title,
        leads.company,
        leads.lead_status,
        leads.lead_source,
        leads.number_of_employees,
        leads.country,
        coalesce(country_codes.country_code, upper(leads.country)) as country_code,
        leads.owner_id,
        leads.created_by_user_id,
        leads.created_at,
        leads.last_modified_at,
        leads.last_activity_date
    from leads
    left join lead_conversions
        on leads.lead_id = lead_conversions.lead_id
    left join merged_records as account_records
        on
            leads.converted_account_id = account_records.record_id
            and account_records.object_name = 'account'
    left join country_codes
        on lower(leads.country) = country_codes.country_alias
    -- A converted lead lives on as its contact unless that contact cannot be found.
    where not leads.is_converted or lead_conversions.converted_contact_id is null
),

final as (
    select * from contact_people
    union all
    select * from lead_people
)

select * from final
