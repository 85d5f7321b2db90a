{%- macro _persisted_reader(unique_id) -%}
    {#- The first model materialized as a view, table or materialized view (without
        etl_period_allow_persisted) that reads the ephemeral node `unique_id`, directly or
        through other ephemeral models; none when there is none. -#}
    {%- if not execute or graph is not defined -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set frontier = [unique_id] -%}
    {%- set seen = [unique_id] -%}
    {%- for _ in range(100) if frontier -%}
        {%- set current = frontier.pop(0) -%}
        {%- for node in graph.nodes.values() | sort(attribute='unique_id')
              if node.resource_type == 'model' and current in (node.depends_on.nodes or [])
              and node.unique_id not in seen -%}
            {%- do seen.append(node.unique_id) -%}
            {%- set materialized = node.config.get('materialized') -%}
            {%- if materialized == 'ephemeral' -%}
                {%- do frontier.append(node.unique_id) -%}
            {%- elif materialized in ['view', 'table', 'materialized_view']
                  and node.config.get('etl_period_allow_persisted') not in [true, 'true', 'True'] -%}
                {{ return(node) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(none) }}
{%- endmacro -%}
