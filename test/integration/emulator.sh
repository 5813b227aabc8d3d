#!/bin/sh
# The VeeaHub emulator's own self-test (python3-dbusmock on a private
# dbus-daemon, dnslib DNS): every method through busctl, records through dig.
cd "$(dirname "$0")/../.." && exec bash test/emu/selftest.sh
