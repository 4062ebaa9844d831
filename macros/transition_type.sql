{#-
    How a stage interval ended, from the stage seed rows of the current and the next stage:
    reopened (closed -> open), outcome_changed (closed -> closed), lost (open -> closed not won),
    regressed (to a lower stage_order), advanced (to the next order), skipped (past one or more
    orders; winning straight from an early stage skips the stages between), lateral (same order),
    unknown_stage (a stage not in the seed), null while the interval is current.
-#}
{% macro revops_transition_type(current, next, next_name_column) -%}
    case
        when {{ next_name_column }} is null then null
        when {{ current }}.stage_order is null or {{ next }}.stage_order is null then 'unknown_stage'
        when {{ current }}.is_closed and not {{ next }}.is_closed then 'reopened'
        when {{ current }}.is_closed and {{ next }}.is_closed then 'outcome_changed'
        when {{ next }}.is_closed and not {{ next }}.is_won then 'lost'
        when {{ next }}.stage_order < {{ current }}.stage_order then 'regressed'
        when {{ next }}.stage_order = {{ current }}.stage_order + 1 then 'advanced'
        when {{ next }}.stage_order > {{ current }}.stage_order + 1 then 'skipped'
        else 'lateral'
    end
{%- endmacro %}
