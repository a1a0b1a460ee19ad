#!/bin/bash
# Devstack plugin for glance-split: installs the package, writes glance-api.conf and
# glance-stream.conf, registers the image service in Keystone and runs both servers.

function install_glance_split {
    setup_develop $GLANCE_SPLIT_DIR
}

function configure_glance_split {
    sudo install -d -o $STACK_USER $GLANCE_SPLIT_CONF_DIR $GLANCE_SPLIT_STATE
    cp $GLANCE_SPLIT_DIR/etc/glance-api-paste.ini $GLANCE_SPLIT_CONF_DIR/
    cp $GLANCE_SPLIT_DIR/etc/glance-stream-paste.ini $GLANCE_SPLIT_CONF_DIR/
    local key
    key=$(python3 -c "import secrets; print(secrets.token_hex(32))")
    for svc in api stream; do
        local conf=$GLANCE_SPLIT_CONF_DIR/glance-$svc.conf
        local port=$GLANCE_SPLIT_API_PORT
        [[ $svc == stream ]] && port=$GLANCE_SPLIT_STREAM_PORT
        iniset $conf DEFAULT bind_host $SERVICE_LISTEN_ADDRESS
        iniset $conf DEFAULT bind_port $port
        iniset $conf DEFAULT state_path $GLANCE_SPLIT_STATE
        iniset $conf DEFAULT enabled_backends local:file
        iniset $conf glance_store default_backend local
        iniset $conf local filesystem_store_datadir $GLANCE_SPLIT_STATE/images
        iniset $conf database connection $(database_connection_url glance)
        iniset $conf paste_deploy flavor keystone
        iniset $conf stream endpoints "$SERVICE_PROTOCOL://$SERVICE_HOST:$GLANCE_SPLIT_STREAM_PORT"
        iniset $conf stream ticket_key $key
        configure_keystone_authtoken_middleware $conf glance
    done
}

function init_glance_split {
    recreate_database glance
    $GLANCE_BIN_DIR/glance-manage --config-file $GLANCE_SPLIT_CONF_DIR/glance-api.conf db sync
    get_or_create_service "glance" "image" "Glance Image Service"
    get_or_create_endpoint "image" "$REGION_NAME" \
        "$SERVICE_PROTOCOL://$SERVICE_HOST:$GLANCE_SPLIT_API_PORT"
}

function start_glance_split {
    run_process gs-stream "$GLANCE_BIN_DIR/glance-stream --config-file $GLANCE_SPLIT_CONF_DIR/glance-stream.conf"
    run_process gs-api "$GLANCE_BIN_DIR/glance-api --config-file $GLANCE_SPLIT_CONF_DIR/glance-api.conf"
    wait_for_service $SERVICE_TIMEOUT "$SERVICE_PROTOCOL://$SERVICE_HOST:$GLANCE_SPLIT_API_PORT/versions"
}

function stop_glance_split {
    stop_process gs-api
    stop_process gs-stream
}

if is_service_enabled gs-api; then
    if [[ "$1" == "stack" && "$2" == "install" ]]; then
        install_glance_split
    elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
        create_service_user "glance"
        configure_glance_split
    elif [[ "$1" == "stack" && "$2" == "extra" ]]; then
        init_glance_split
        start_glance_split
    fi
    if [[ "$1" == "unstack" ]]; then
        stop_glance_split
    fi
fi
