/* builtin.c -- see builtin.h */
#include "src/builtin.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "platform/clock.h"
#include "platform/file.h"
#include "src/commands.h"
#include "platform/fmt.h"

const char *const builtin_names[] = {
	"uptime", "hostname", "serial", "version", "date", "loadavg", "meminfo",
	"interfaces", "nodetype", "ping",
};
const size_t builtin_count = sizeof builtin_names / sizeof builtin_names[0];

void builtin_env_init(builtin_env_t *e, const char *serial, const char *node_type)
{
	const char *p = getenv("DMQTT_PROC_ROOT"), *n = getenv("DMQTT_SYS_NET");
	e->serial = serial;
	e->node_type = node_type;
	e->proc = p != NULL && *p != '\0' ? p : "/proc";
	e->sys_net = n != NULL && *n != '\0' ? n : "/sys/class/net";
}

int builtin_exists(const char *name)
{
	for (size_t i = 0; i < builtin_count; i++)
		if (strcmp(builtin_names[i], name) == 0)
			return 1;
	return 0;
}

/* Read a small file under root into buf, trailing whitespace removed. */
static int read_small(const char *root, const char *rel, char *buf, size_t cap)
{
	char path[512], *data;
	size_t len;
	if (fmt_snprintf(path, sizeof path, "%s/%s", root, rel) >= (int)sizeof path)
		return -1;
	if (file_read(path, 1 << 20, &data, &len) != 0)
		return -1;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(buf, data, len);
	buf[len] = '\0';
	free(data);
	return 0;
}

static int cmd_uptime(const builtin_env_t *e, char *out, size_t cap)
{
	char up[128], load[128] = "?";
	unsigned long s, days, h, m;
	char *end;
	/* /proc/uptime: "12345.67 ..."; /proc/loadavg: "0.10 0.20 0.30 ..." */
	if (read_small(e->proc, "uptime", up, sizeof up) != 0 ||
	    (s = strtoul(up, &end, 10), end == up))
		return fmt_snprintf(out, cap, "cannot read %s/uptime", e->proc), 1;
	if (read_small(e->proc, "loadavg", load, sizeof load) == 0) {
		/* keep the three averages, as printed by the kernel */
		char *p = load;
		for (int field = 0; *p != '\0'; p++)
			if (*p == ' ' && ++field == 3)
				break;
		*p = '\0';
	}
	days = s / 86400;
	h = s % 86400 / 3600;
	m = s % 3600 / 60;
	fmt_snprintf(out, cap, "up %lu day%s, %02lu:%02lu:%02lu, load average: %s",
		days, days == 1 ? "" : "s", h, m, s % 60, load);
	return 0;
}

static int cmd_meminfo(const builtin_env_t *e, char *out, size_t cap)
{
	static const char *const keys[] = { "MemTotal:", "MemFree:", "MemAvailable:" };
	char path[512], *data, *line, *save = NULL;
	size_t len, o = 0;
	fmt_snprintf(path, sizeof path, "%s/meminfo", e->proc);
	if (file_read(path, 1 << 20, &data, &len) != 0)
		return fmt_snprintf(out, cap, "cannot read %s", path), 1;
	out[0] = '\0';
	for (line = strtok_r(data, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		for (size_t i = 0; i < 3; i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0 && o < cap) {
				int w = fmt_snprintf(out + o, cap - o, "%s%s", o > 0 ? "\n" : "", line);
				if (w > 0)
					o += (size_t)w;
			}
	free(data);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

size_t iface_list(const char *sys_net, char names[][IFACE_NAME_MAX], size_t max)
{
	DIR *d = opendir(sys_net);
	struct dirent *de;
	size_t n = 0;
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		if (de->d_name[0] == '.' || strcmp(de->d_name, "lo") == 0 ||
		    strlen(de->d_name) >= IFACE_NAME_MAX)
			continue;
		strcpy(names[n++], de->d_name);
	}
	closedir(d);
	qsort(names, n, IFACE_NAME_MAX, cmp_names);
	return n;
}

int iface_up(const char *sys_net, const char *name)
{
	char rel[64], state[32];
	if (strchr(name, '/') != NULL || fmt_snprintf(rel, sizeof rel, "%s/operstate", name) >= (int)sizeof rel)
		return -1;
	if (read_small(sys_net, rel, state, sizeof state) != 0)
		return -1;
	return strcmp(state, "up") == 0;
}

static int cmd_interfaces(const builtin_env_t *e, char *out, size_t cap)
{
	char names[64][IFACE_NAME_MAX];
	size_t n = iface_list(e->sys_net, names, 64), o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < n && o < cap; i++) {
		int up = iface_up(e->sys_net, names[i]);
		int w = fmt_snprintf(out + o, cap - o, "%s%s %s", i > 0 ? "\n" : "", names[i],
			up > 0 ? "Up" : up == 0 ? "Down" : "unknown");
		if (w > 0)
			o += (size_t)w;
	}
	return 0;
}

int builtin_run(const builtin_env_t *e, const char *cmd, char *out, size_t cap)
{
	if (cap == 0)
		return 1;
	out[0] = '\0';
	if (strcmp(cmd, "ping") == 0)
		return fmt_snprintf(out, cap, "pong"), 0;
	if (strcmp(cmd, "serial") == 0)
		return fmt_snprintf(out, cap, "%s", e->serial), 0;
	if (strcmp(cmd, "nodetype") == 0)
		return fmt_snprintf(out, cap, "%s", e->node_type), 0;
	if (strcmp(cmd, "version") == 0)
		return fmt_snprintf(out, cap, "%s", dmqtt_version_short()), 0;
	if (strcmp(cmd, "date") == 0) {
		clock_iso8601(clock_wall_s(), out, cap);
		return 0;
	}
	if (strcmp(cmd, "hostname") == 0)
		return read_small(e->proc, "sys/kernel/hostname", out, cap) == 0 ? 0 :
			(fmt_snprintf(out, cap, "cannot read the host name"), 1);
	if (strcmp(cmd, "loadavg") == 0)
		return read_small(e->proc, "loadavg", out, cap) == 0 ? 0 :
			(fmt_snprintf(out, cap, "cannot read %s/loadavg", e->proc), 1);
	if (strcmp(cmd, "uptime") == 0)
		return cmd_uptime(e, out, cap);
	if (strcmp(cmd, "meminfo") == 0)
		return cmd_meminfo(e, out, cap);
	if (strcmp(cmd, "interfaces") == 0)
		return cmd_interfaces(e, out, cap);
	return -1;
}
