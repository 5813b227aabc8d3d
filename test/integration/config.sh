#!/bin/sh
# `dmqtt config check` against real files: a Veea-style user-config.json
# with a CA made here by the openssl CLI, secrets masked with -v, every
# problem of a wrong file listed (exit 78), JSON syntax errors with
# FILE:LINE:COL (65), unreadable and oversized files (66), the path's
# precedence (FILE/--config > DMQTT_CONFIG > default), and the bad inputs
# again under ASan+UBSan.
. "$(dirname "$0")/lib.sh"

ASAN=${DMQTT_ASAN:-$ROOT/build/asan/dmqtt}
DATA=$ROOT/test/data/config
PASS='correct horse battery staple'

# ---- a CA made now, base64 -w 0 into a Veea-style file (every value a string)
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-subj "/CN=dmqtt config.sh CA" -days 2 -keyout "$T_TMP/ca.key" \
	-out "$T_TMP/ca.pem" >/dev/null 2>&1; then
	fail "openssl makes a CA" "openssl req failed"
	finish
	exit 1
fi
CA_B64=$(base64 -w 0 "$T_TMP/ca.pem")
FP=$(openssl x509 -in "$T_TMP/ca.pem" -noout -fingerprint -sha256 | sed 's/.*=//')

# write_cfg FILE CA_VALUE: the template's six keys
write_cfg() {
	cat >"$1" <<EOF
{
    "mqtt_cloud_broker_hostname": "mqtt.cloud.example.com",
    "mqtt_cloud_broker_port": "8883",
    "mqtt_cloud_broker_username": "men-C25DTADSR00000001134",
    "mqtt_cloud_broker_password": "$PASS",
    "mqtt_cloud_broker_ca_cert_b64": "$2",
    "mqtt_mesh_broker_port": "1883"
}
EOF
}
VALID=$T_TMP/user-config.json
write_cfg "$VALID" "$CA_B64"

expect_rc "valid Veea-style file -> 0" 0 "$DMQTT" config check "$VALID"
expect_grep "valid file prints ok" "^ok$" "$T_OUT"
if [ ! -s "$T_ERR" ]; then ok "valid file: nothing on stderr"; else fail "valid file: stderr" "$(head -c 300 "$T_ERR")"; fi

# -v: the effective settings, the password masked, the CA's fingerprint
expect_rc "-v -> 0" 0 "$DMQTT" config check -v "$VALID"
expect_grep "-v masks the password" '^mqtt_cloud_broker_password = \*\*\*\*\*\*\*\*$' "$T_OUT"
if grep -q "$PASS" "$T_OUT" "$T_ERR"; then fail "-v never prints the password" "found it"; else ok "-v never prints the password"; fi
expect_grep "-v shows the CA's sha256 (as openssl does)" "CA, sha256 $FP" "$T_OUT"
expect_grep "-v shows the defaults" '^telemetry_interval_s = 10 \(default\)$' "$T_OUT"
expect_grep "-v shows the default bridge topics" '^  topic req/# in 1$' "$T_OUT"
expect_grep "-v still ends in ok" '^ok$' "$T_OUT"
expect_rc "--show-secrets -> 0" 0 "$DMQTT" config check --show-secrets "$VALID"
expect_grep "--show-secrets shows the password" "^mqtt_cloud_broker_password = \"$PASS\"$" "$T_OUT"

# base64's default 76-column lines, as JSON \n escapes
WRAPPED=$(base64 "$T_TMP/ca.pem" | awk '{ printf "%s\\n", $0 }')
write_cfg "$T_TMP/wrapped.json" "$WRAPPED"
expect_rc "CA base64 in wrapped lines -> 0" 0 "$DMQTT" config check "$T_TMP/wrapped.json"

# the PEM pasted as it is, and the base64 of something else
write_cfg "$T_TMP/pem.json" "$(awk '{ printf "%s\\n", $0 }' "$T_TMP/ca.pem")"
expect_rc "PEM instead of base64 -> 78" 78 "$DMQTT" config check "$T_TMP/pem.json"
expect_grep "PEM instead of base64 explained" "mqtt_cloud_broker_ca_cert_b64: holds PEM text, not its base64" "$T_ERR"
write_cfg "$T_TMP/key.json" "$(base64 -w 0 "$T_TMP/ca.key")"
expect_rc "base64 of a private key -> 78" 78 "$DMQTT" config check "$T_TMP/key.json"
expect_grep "private key named" "private key" "$T_ERR"

# ---- a file with every field wrong: every problem, one per line, exit 78
for bin in "$DMQTT" "$ASAN"; do
	b=$(basename "$(dirname "$bin")")
	expect_rc "$b: every field wrong -> 78" 78 "$bin" config check "$DATA/all-wrong.json"
	for key in mqtt_cloud_broker_hostname mqtt_cloud_broker_port mqtt_cloud_broker_username \
		mqtt_cloud_broker_password mqtt_cloud_broker_ca_cert_b64 mqtt_mesh_broker_port \
		mesh_secret_salt telemetry_interval_s telemetry_interfaces 'allowed_commands\.uptime' \
		'allowed_commands\.ls\[0\]' 'allowed_commands\.empty' 'bridge_topics\[0\]' \
		'bridge_topics\[1\]' log_level mesh_broker_ip; do
		expect_grep "$b: all-wrong names $key" "^$DATA/all-wrong.json:[0-9]+:[0-9]+: $key: " "$T_ERR"
	done
	expect_grep "$b: the port's type error says what it found" \
		'mqtt_cloud_broker_username: expected a string, found an array' "$T_ERR"
	expect_grep "$b: duplicated key is an error naming it" ':17:5: extra: duplicated key' "$T_ERR"
	expect_grep "$b: unknown key is a warning" 'warning: mqtt_cloud_broker_hostnam: unknown key' "$T_ERR"
	n=$(grep -c . "$T_ERR")
	if [ "$n" -eq 19 ]; then ok "$b: 19 problems, one per line"; else fail "$b: problem count" "$n lines"; fi
	if grep -qE 'AddressSanitizer|runtime error' "$T_ERR"; then fail "$b: sanitizers quiet" "$(head -c 300 "$T_ERR")"; fi
done

# ---- JSON syntax errors: 65 with FILE:LINE:COL
for bin in "$DMQTT" "$ASAN"; do
	b=$(basename "$(dirname "$bin")")
	expect_rc "$b: truncated JSON -> 65" 65 "$bin" config check "$DATA/truncated.json"
	expect_grep "$b: truncated JSON at FILE:LINE:COL" "^$DATA/truncated.json:4:1: unexpected end of input$" "$T_ERR"
	head -c 150 "$VALID" >"$T_TMP/cut.json"
	expect_rc "$b: cut inside a string -> 65" 65 "$bin" config check "$T_TMP/cut.json"
	expect_grep "$b: cut inside a string at its quote" "^$T_TMP/cut.json:4:35: unterminated string$" "$T_ERR"
	printf '\357\273\277{}' >"$T_TMP/bom.json"
	expect_rc "$b: BOM -> 65" 65 "$bin" config check --role node "$T_TMP/bom.json"
	expect_grep "$b: BOM explained" "bom.json:1:1: byte order mark" "$T_ERR"
	: >"$T_TMP/empty.json"
	expect_rc "$b: empty file -> 65" 65 "$bin" config check --role node "$T_TMP/empty.json"
	head -c 65536 /dev/urandom >"$T_TMP/random.bin"
	expect_rc "$b: random bytes -> 65" 65 "$bin" config check "$T_TMP/random.bin"
	printf '[1, 2]' >"$T_TMP/array.json"
	expect_rc "$b: a JSON array -> 78" 78 "$bin" config check --role node "$T_TMP/array.json"
	expect_grep "$b: array explained" "must be a JSON object" "$T_ERR"
	if grep -qE 'AddressSanitizer|runtime error' "$T_ERR"; then fail "$b: sanitizers quiet" "$(head -c 300 "$T_ERR")"; fi
done

# ---- cannot read: 66
for bin in "$DMQTT" "$ASAN"; do
	b=$(basename "$(dirname "$bin")")
	expect_rc "$b: missing file -> 66" 66 "$bin" config check "$T_TMP/nonexistent.json"
	expect_grep "$b: missing file named" "nonexistent.json: cannot read: No such file" "$T_ERR"
	expect_rc "$b: a directory -> 66" 66 "$bin" config check "$T_TMP"
	{ printf '{"x": "'; head -c 2097152 /dev/zero | tr '\0' a; printf '"}'; } >"$T_TMP/big.json"
	expect_rc "$b: 2 MiB file -> 66" 66 "$bin" config check "$T_TMP/big.json"
	expect_grep "$b: 2 MiB file: says why" "big.json: 2097161 bytes, larger than the 1 MiB limit" "$T_ERR"
done
if [ "$(id -u)" -ne 0 ]; then
	cp "$VALID" "$T_TMP/noperm.json"
	chmod 000 "$T_TMP/noperm.json"
	expect_rc "unreadable file -> 66" 66 "$DMQTT" config check "$T_TMP/noperm.json"
fi

# ---- roles
printf '{}' >"$T_TMP/empty-object.json"
expect_rc "{} for a node -> 0" 0 "$DMQTT" config check --role node "$T_TMP/empty-object.json"
expect_rc "{} for the cloud side -> 0" 0 "$DMQTT" config check --role=cloud "$T_TMP/empty-object.json"
expect_rc "{} for the broker (the default role) -> 78" 78 "$DMQTT" config check "$T_TMP/empty-object.json"
n=$(grep -c 'missing: the broker role needs it' "$T_ERR")
if [ "$n" -eq 4 ]; then ok "all four missing keys reported in one run"; else fail "missing keys together" "$n of 4"; fi
printf '{"telemetry_interval_s": 5, "colour": "blue"}' >"$T_TMP/warn.json"
expect_rc "an unknown key only warns -> 0" 0 "$DMQTT" config check --role node "$T_TMP/warn.json"
expect_grep "the warning names the key" 'warn.json:1:29: warning: colour: unknown key, ignored' "$T_ERR"

# ---- where the file comes from: FILE/--config > DMQTT_CONFIG > default
expect_rc "DMQTT_CONFIG is read" 0 env DMQTT_CONFIG="$VALID" "$DMQTT" config check
expect_rc "--config beats DMQTT_CONFIG" 0 env DMQTT_CONFIG="$DATA/all-wrong.json" "$DMQTT" config check --config "$VALID"
expect_rc "FILE beats DMQTT_CONFIG" 78 env DMQTT_CONFIG="$VALID" "$DMQTT" config check "$DATA/all-wrong.json"
expect_rc "--config after FILE-less check" 78 "$DMQTT" config check --config="$DATA/all-wrong.json"
expect_rc "empty DMQTT_CONFIG means unset" 66 env DMQTT_CONFIG= "$DMQTT" config check "$T_TMP/nonexistent.json"
if [ ! -e /usr/local/config/defaults/user-config.json ]; then
	expect_rc "the default path without DMQTT_CONFIG" 66 env -u DMQTT_CONFIG "$DMQTT" config check
	expect_grep "the default path is named" '^/usr/local/config/defaults/user-config.json: cannot read' "$T_ERR"
fi

# ---- usage
expect_rc "config without a subcommand -> 64" 64 "$DMQTT" config
expect_rc "config bogus -> 64" 64 "$DMQTT" config bogus
expect_rc "config check A B -> 64" 64 "$DMQTT" config check "$VALID" "$VALID"
expect_rc "FILE and --config together -> 64" 64 "$DMQTT" config check "$VALID" --config "$VALID"
expect_rc "config check --role admin -> 64" 64 "$DMQTT" config check --role admin "$VALID"
expect_rc "config check --bogus -> 64" 64 "$DMQTT" config check --bogus
expect_rc "config --help -> 0" 0 "$DMQTT" config --help
expect_grep "config --help names the default role" "default broker" "$T_OUT"
expect_rc "help lists config" 0 "$DMQTT" help
expect_grep "help lists config" '^  config ' "$T_OUT"

finish
