-- Per account, the local posting hours ranked by the mean engagement rate of their posts, counting only hours
-- with at least var('best_hours_min_posts') measured posts (one lucky post is no pattern).

with

performance as (

    select * from {{ ref('fct_clip_performance') }}

),

by_hour as (

    select
        workspace_id,
        account_id,
        platform,
        posting_hour_local,
        count(*) as posts,
        count(engagement_rate) as measured_posts,
        avg(engagement_rate) as mean_engagement_rate,
        avg(views) as mean_views

    from performance
    where posting_hour_local is not null
    group by workspace_id, account_id, platform, posting_hour_local

),

eligible as (

    select * from by_hour
    where measured_posts >= {{ var('best_hours_min_posts') }}

),

final as (

    select
        *,
        rank() over (partition by workspace_id, account_id order by mean_engagement_rate desc) as hour_rank

    from eligible

)

select * from final
