-- Per workspace per day: accounts with posts, posts that day and in all, lifetime views, likes and interactions as
-- of the day, and the mean engagement rate of the posts measured that day.

with

growth as (

    select * from {{ ref('account_growth') }}

),

engagement as (

    select * from {{ ref('fct_clip_engagement') }}

),

totals as (

    select
        workspace_id,
        day,
        count(*) as accounts,
        sum(posts) as posts,
        sum(cumulative_posts) as cumulative_posts,
        sum(cumulative_views) as cumulative_views,
        sum(cumulative_likes) as cumulative_likes,
        sum(cumulative_interactions) as cumulative_interactions

    from growth
    group by workspace_id, day

),

measured as (

    select
        workspace_id,
        snapshot_day as day,
        count(*) as measured_posts,
        avg(engagement_rate) as mean_engagement_rate

    from engagement
    group by workspace_id, snapshot_day

),

final as (

    select
        totals.*,
        coalesce(measured.measured_posts, 0) as measured_posts,
        measured.mean_engagement_rate

    from totals
    left join measured on totals.workspace_id = measured.workspace_id and totals.day = measured.day

)

select * from final
