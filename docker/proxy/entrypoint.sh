#!/bin/sh
# Fill in the listening port and the public host, make a self-signed certificate when none was
# mounted (replace it with a real one: /etc/compymac-tls/cert.pem and key.pem), then run nginx.
set -eu
: "${HTTPS_PORT:=443}"
: "${TLS_HOST:=localhost}"
tls=/etc/compymac-tls
if [ ! -s "$tls/cert.pem" ] || [ ! -s "$tls/key.pem" ]; then
    echo "proxy: no certificate in $tls, making a self-signed one for $TLS_HOST" >&2
    mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj "/CN=$TLS_HOST" \
        -addext "subjectAltName=DNS:$TLS_HOST" -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
fi
sed -e "s/@HTTPS_PORT@/$HTTPS_PORT/g" /etc/nginx/compymac.conf.in >/etc/nginx/conf.d/compymac.conf
exec nginx -g 'daemon off;'
