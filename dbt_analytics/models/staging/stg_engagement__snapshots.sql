with

source as (

    select * from {{ source('engagement', 'snapshots') }}

),

renamed as (

    select
        -- keys
        cast(publication_id as varchar) as publication_id,
        cast(snapshot_day as date) as snapshot_day,
        cast(workspace_id as varchar) as workspace_id,
        cast(account_id as varchar) as account_id,
        cast(platform as varchar) as platform,
        cast(post_id as varchar) as post_id,

        -- cumulative lifetime counts at capture time (NULL: not reported by the platform)
        cast(views as bigint) as views,
        cast(likes as bigint) as likes,
        cast(comments as bigint) as comments,
        cast(shares as bigint) as shares,
        cast(saves as bigint) as saves,
        cast(avg_view_duration_s as double) as avg_view_duration_s,
        cast(retention as double) as retention,

        cast(captured_at as timestamptz) as captured_at

    from source

)

select * from renamed
