{%- macro _period_limited_ephemeral(node) -%}
    {#- The unique id of an ephemeral model that `node` reads (directly or through other
        ephemeral models) and that calls a period macro itself; none when there is none. -#}
    {%- set period_macros = ['period_ref', 'period_source', 'period_filter', 'period_start', 'period_end'] -%}
    {%- set frontier = (node.depends_on.nodes or []) | list -%}
    {%- set seen = [] -%}
    {%- for _ in range(100) if frontier -%}
        {%- set current = frontier.pop(0) -%}
        {%- set parent = graph.nodes.get(current) -%}
        {%- if current not in seen and parent is not none and parent.resource_type == 'model'
              and parent.config.get('materialized') == 'ephemeral' -%}
            {%- do seen.append(current) -%}
            {%- for used in parent.depends_on.macros or [] -%}
                {%- if used.startswith('macro.etl_session.') and used.split('.')[-1] in period_macros -%}
                    {{ return(current) }}
                {%- endif -%}
            {%- endfor -%}
            {%- do frontier.extend(parent.depends_on.nodes or []) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro -%}
