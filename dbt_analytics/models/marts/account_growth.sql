-- Per account per day, from its first post to the workspace's latest snapshot day: posts published that day and
-- in all, and the lifetime views, likes and interactions of its posts as of that day (each post's latest snapshot
-- on or before the day; a post the platform gives no views for adds nothing, it does not count as 0).

with

publications as (

    select * from {{ ref('int_publications_latest') }}

),

engagement as (

    select * from {{ ref('fct_clip_engagement') }}

),

accounts as (

    select
        workspace_id,
        account_id,
        platform,
        min(published_day) as first_day

    from publications
    group by workspace_id, account_id, platform

),

workspace_last_day as (

    select workspace_id, max(snapshot_day) as last_day
    from engagement
    group by workspace_id

),

account_days as (

    select
        accounts.workspace_id,
        accounts.account_id,
        accounts.platform,
        cast(unnest(generate_series(
            accounts.first_day,
            greatest(accounts.first_day, coalesce(workspace_last_day.last_day, accounts.first_day)),
            interval 1 day
        )) as date) as day

    from accounts
    left join workspace_last_day on accounts.workspace_id = workspace_last_day.workspace_id

),

posts_by_day as (

    select
        account_days.workspace_id,
        account_days.account_id,
        account_days.platform,
        account_days.day,
        publications.publication_id,
        publications.published_day

    from account_days
    inner join publications
        on publications.account_id = account_days.account_id
        and publications.published_day <= account_days.day

),

counts_as_of_day as (

    select
        posts_by_day.*,
        engagement.views,
        engagement.likes,
        engagement.interactions

    from posts_by_day
    asof left join engagement
        on posts_by_day.publication_id = engagement.publication_id
        and posts_by_day.day >= engagement.snapshot_day

),

final as (

    select
        workspace_id,
        account_id,
        platform,
        day,
        count(*) filter (where published_day = day) as posts,
        count(*) as cumulative_posts,
        sum(views) as cumulative_views,
        sum(likes) as cumulative_likes,
        sum(interactions) as cumulative_interactions

    from counts_as_of_day
    group by workspace_id, account_id, platform, day

)

select * from final
