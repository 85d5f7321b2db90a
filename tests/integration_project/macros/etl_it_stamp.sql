{%- macro etl_it_stamp() -%}
    {#- A project's own wrapper around the package's session id (the model that uses it does not
        call etl_session.session_id() itself). -#}
    {{ return(etl_session.session_id()) }}
{%- endmacro -%}
