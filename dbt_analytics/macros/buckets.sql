{#- Feature buckets for performance_by_feature; labels sort in their natural order. -#}

{% macro duration_bucket(duration_s) -%}
    case
        when {{ duration_s }} is null then 'unknown'
        when {{ duration_s }} < 15 then '00-15s'
        when {{ duration_s }} < 30 then '15-30s'
        when {{ duration_s }} < 45 then '30-45s'
        when {{ duration_s }} < 60 then '45-60s'
        else '60s+'
    end
{%- endmacro %}

{#- What kind of hook a clip's title is: how_to, question, number, exclamation, statement (none when empty). -#}
{% macro hook_type(hook_text) -%}
    case
        when nullif(trim({{ hook_text }}), '') is null then 'none'
        when regexp_matches(lower(trim({{ hook_text }})), '^how (to|i|we|you)\b') then 'how_to'
        when trim({{ hook_text }}) like '%?'
            or regexp_matches(lower(trim({{ hook_text }})), '^(who|what|when|where|why|how|which|is|are|do|does|did|can|should|would|will)\b')
            then 'question'
        when regexp_matches({{ hook_text }}, '[0-9]') then 'number'
        when trim({{ hook_text }}) like '%!' then 'exclamation'
        else 'statement'
    end
{%- endmacro %}
