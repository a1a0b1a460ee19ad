#!/bin/bash
# shellcheck disable=SC2154  # devstack's globals (DEST, SERVICE_HOST, GLANCE_CONF_DIR...)
# Devstack plugin for glance-split: glance-api (Images API v2) and glance-stream (image
# bytes and the cache) in place of devstack's Glance.
#
# stack.sh sources this file at each of its phases, after lib/glance. The functions below
# replace lib/glance's, so stack.sh itself calls them at the points where it handles its
# own Glance:
#
#   install section   install_glance, configure_glance
#   after Keystone    create_glance_accounts      (service user, catalog entry)
#   before post-config init_glance                (database)
#   after post-config start_glance                (before "Uploading images")
#   unstack.sh        stop_glance
#   clean.sh          cleanup_glance
#
# GLANCE_URL is reset here, after lib/glance computed it for a uWSGI deployment under
# /image: both servers run standalone on their own ports, and Cinder (glance_api_servers),
# Nova and the catalog must all point at the URL that answers.

# ---------------------------------------------------------------------------- addresses

# shellcheck disable=SC2034  # read by lib/glance's callers
GLANCE_STANDALONE=True
GLANCE_HOSTPORT=$GLANCE_SERVICE_HOST:$GLANCE_SERVICE_PORT
GLANCE_URL=$GLANCE_SERVICE_PROTOCOL://$GLANCE_HOSTPORT
GLANCE_STREAM_URL=$GLANCE_SERVICE_PROTOCOL://$GLANCE_SERVICE_HOST:$GLANCE_STREAM_PORT
GLANCE_STREAM_CONF=$GLANCE_CONF_DIR/glance-stream.conf
GLANCE_CACHE_DIR=$GLANCE_SPLIT_STATE/cache
GLANCE_IMAGE_DIR=$GLANCE_SPLIT_STATE/images

# The ports the servers bind: behind tls-proxy the public ports belong to the proxy.
function _glance_split_bind_ports {
    if is_service_enabled tls-proxy; then
        echo "$GLANCE_SERVICE_PORT_INT $GLANCE_STREAM_PORT_INT"
    else
        echo "$GLANCE_SERVICE_PORT $GLANCE_STREAM_PORT"
    fi
}

# ---------------------------------------------------------------------------- lib/glance

function install_glance {
    setup_develop "$GLANCE_SPLIT_DIR"
}

# _glance_split_common <conf file> <bind port>: what both servers' configuration shares.
function _glance_split_common {
    local conf=$1 port=$2
    iniset "$conf" DEFAULT debug "$ENABLE_DEBUG_LOG_LEVEL"
    iniset "$conf" DEFAULT use_syslog "$SYSLOG"
    iniset "$conf" DEFAULT bind_host "$GLANCE_SERVICE_LISTEN_ADDRESS"
    iniset "$conf" DEFAULT bind_port "$port"
    iniset "$conf" DEFAULT workers "$API_WORKERS"
    iniset "$conf" DEFAULT state_path "$GLANCE_SPLIT_STATE"
    iniset "$conf" DEFAULT public_endpoint "$GLANCE_URL"
    iniset "$conf" DEFAULT enabled_backends local:file
    iniset "$conf" glance_store default_backend local
    iniset "$conf" local filesystem_store_datadir "$GLANCE_IMAGE_DIR"
    iniset "$conf" database connection "$(database_connection_url glance)"
    iniset "$conf" paste_deploy flavor keystone
    iniset "$conf" stream endpoints "$GLANCE_STREAM_URL"
    iniset "$conf" stream ticket_key "$GLANCE_SPLIT_TICKET_KEY"
    configure_keystone_authtoken_middleware "$conf" glance
    if is_service_enabled rabbit; then
        # Notifications for Ceilometer and the like, as devstack's own Glance sends them
        # (glance-api the image events, glance-stream image.send).
        iniset "$conf" oslo_messaging_notifications driver messagingv2
        iniset_rpc_backend glance "$conf"
    fi
    if is_service_enabled tls-proxy; then
        # The proxy terminates TLS: links and redirects must still say https.
        iniset "$conf" oslo_middleware enable_proxy_headers_parsing True
    fi
    setup_logging "$conf"
}

function configure_glance {
    sudo install -d -o "$STACK_USER" "$GLANCE_CONF_DIR" "$GLANCE_SPLIT_STATE"
    cp "$GLANCE_SPLIT_DIR/etc/glance-api-paste.ini" "$GLANCE_CONF_DIR/"
    cp "$GLANCE_SPLIT_DIR/etc/glance-stream-paste.ini" "$GLANCE_CONF_DIR/"
    # One signing key for download tickets, shared by both servers, kept across re-stacks.
    GLANCE_SPLIT_TICKET_KEY=$(iniget "$GLANCE_API_CONF" stream ticket_key)
    if [[ -z $GLANCE_SPLIT_TICKET_KEY ]]; then
        GLANCE_SPLIT_TICKET_KEY=$(generate_hex_string 32)
    fi
    local ports
    read -r -a ports <<<"$(_glance_split_bind_ports)"
    _glance_split_common "$GLANCE_API_CONF" "${ports[0]}"
    _glance_split_common "$GLANCE_STREAM_CONF" "${ports[1]}"
    iniset "$GLANCE_API_CONF" paste_deploy config_file "$GLANCE_CONF_DIR/glance-api-paste.ini"
    iniset "$GLANCE_STREAM_CONF" paste_deploy config_file \
        "$GLANCE_CONF_DIR/glance-stream-paste.ini"
    # The stream node caches what it serves (devstack's Glance caches too).
    iniset "$GLANCE_STREAM_CONF" cache directory "$GLANCE_CACHE_DIR"
    iniset "$GLANCE_STREAM_CONF" cache max_size "$GLANCE_CACHE_MAX_SIZE"
    # Nova computes share this machine with the file store: let them read it directly.
    local file_clients="127.0.0.0/8,::1/128"
    local address
    for address in ${HOST_IP:-} ${HOST_IPV6:-}; do
        file_clients+=",$address"
    done
    iniset "$GLANCE_API_CONF" direct_link file_clients "$file_clients"
    if [[ -n ${GLANCE_CORS_ALLOWED_ORIGIN:-} ]]; then
        iniset "$GLANCE_API_CONF" cors allowed_origin "$GLANCE_CORS_ALLOWED_ORIGIN"
    else
        iniset "$GLANCE_API_CONF" cors allowed_origin "http://$SERVICE_HOST"
    fi
    if [[ $GLANCE_ENFORCE_SCOPE == True ]]; then
        iniset "$GLANCE_API_CONF" oslo_policy enforce_scope true
        iniset "$GLANCE_API_CONF" oslo_policy enforce_new_defaults true
    fi
}

function create_glance_accounts {
    # The "service" role, as devstack gives its own Glance's user: keystonemiddleware's
    # service-token check and the other services' calls rely on it.
    create_service_user glance service
    if is_service_enabled s-proxy; then
        create_service_user glance-swift ResellerAdmin
    fi
    get_or_create_service glance image "Glance Image Service"
    get_or_create_endpoint image "$REGION_NAME" "$GLANCE_URL"
}

function init_glance {
    rm -rf "$GLANCE_IMAGE_DIR" "$GLANCE_CACHE_DIR"
    mkdir -p "$GLANCE_IMAGE_DIR" "$GLANCE_CACHE_DIR"
    recreate_database glance
    time_start dbsync
    "$GLANCE_BIN_DIR/glance-manage" --config-file "$GLANCE_API_CONF" db sync
    time_stop dbsync
}

function start_glance {
    if is_service_enabled tls-proxy; then
        start_tls_proxy glance-service '*' "$GLANCE_SERVICE_PORT" "$GLANCE_SERVICE_HOST" \
            "$GLANCE_SERVICE_PORT_INT"
        start_tls_proxy glance-stream '*' "$GLANCE_STREAM_PORT" "$GLANCE_SERVICE_HOST" \
            "$GLANCE_STREAM_PORT_INT"
    fi
    run_process g-stream "$GLANCE_BIN_DIR/glance-stream --config-file $GLANCE_STREAM_CONF"
    run_process g-api "$GLANCE_BIN_DIR/glance-api --config-file $GLANCE_API_CONF"
    echo "Waiting for g-api and g-stream ($GLANCE_SERVICE_HOST) to start..."
    if ! wait_for_service "$SERVICE_TIMEOUT" "$GLANCE_URL"; then
        die $LINENO "g-api did not start"
    fi
    if ! wait_for_service "$SERVICE_TIMEOUT" "$GLANCE_STREAM_URL/healthcheck"; then
        die $LINENO "g-stream did not start"
    fi
}

function stop_glance {
    stop_process g-api
    stop_process g-stream
}

function cleanup_glance {
    sudo rm -rf "$GLANCE_IMAGE_DIR" "$GLANCE_CACHE_DIR" "$GLANCE_SPLIT_STATE"
}

# ---------------------------------------------------------------------------- phases
# Everything else happens in stack.sh's own Glance steps (above); the phases only add
# what devstack has no step for.

if is_service_enabled g-api g-stream; then
    if [[ $1 == stack && $2 == test-config ]] && is_service_enabled tempest; then
        # Interoperable import is on (glance-direct stages under state_path on this
        # host); location editing is not, as show_multiple_locations is left off.
        iniset "$TEMPEST_CONFIG" image-feature-enabled import_image True
        iniset "$TEMPEST_CONFIG" image-feature-enabled manage_locations False
    elif [[ $1 == clean ]]; then
        cleanup_glance
    fi
fi
