{#- Engagement arithmetic shared by the marts. A count a platform does not report is NULL, never 0. -#}

{#- Interactions the platform reports (likes + comments + shares + saves); a missing kind adds nothing, and a post
    with none of them reported has NULL interactions, not 0. -#}
{% macro interactions(likes, comments, shares, saves) -%}
    case
        when coalesce({{ likes }}, {{ comments }}, {{ shares }}, {{ saves }}) is not null
            then coalesce({{ likes }}, 0) + coalesce({{ comments }}, 0) + coalesce({{ shares }}, 0) + coalesce({{ saves }}, 0)
    end
{%- endmacro %}

{#- numerator / views, NULL when views are missing or 0 (a rate over nothing is unknown, not 0). -#}
{% macro per_view(numerator, views) -%}
    case when {{ views }} > 0 then cast({{ numerator }} as double) / {{ views }} end
{%- endmacro %}

{#- The UTC calendar day of a timestamptz, whatever the session's time zone. -#}
{% macro utc_day(timestamp) -%}
    cast(timezone('UTC', {{ timestamp }}) as date)
{%- endmacro %}
