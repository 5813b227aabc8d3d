/*
 * tls_test.c -- PEM loading (proto/pem) and the TLS client glue (proto/tls)
 * in memory: a BearSSL server engine on the other end of a fake transport
 * that moves bytes one at a time or in random chunks.  No files, no network.
 *
 * The fixtures below were made once with the openssl CLI (OpenSSL 3.0),
 * valid 2025-01-01 to 2045-01-01; the tests pass a fixed wall time.
 *   CA 1: EC P-256, "CN=dmqtt test CA 1, O=dmqtt test"
 *   CA 2: RSA 2048, "CN=dmqtt test CA 2, O=dmqtt test"
 *   srv_ec  (CA 1) and srv_rsa (CA 2): CN=localhost, SAN DNS:localhost,
 *           DNS:broker.test, serverAuth; keys in PKCS#8
 *   cli_ec (CA 1, SEC1 key) and cli_rsa (CA 1, PKCS#1 key): clientAuth
 * with `openssl ca -selfsign` / `openssl ca -startdate 20250101000000Z
 * -enddate 20450101000000Z -extensions v3_server|v3_client`.
 */
#include "unit.h"

#include <stdio.h>

#include "proto/pem.h"
#include "proto/tls.h"

#define NOW_2030 1893456000   /* 2030-01-01 00:00:00 UTC */

static const char ca1_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBkDCCATagAwIBAgICEAAwCgYIKoZIzj0EAwIwLzEYMBYGA1UEAwwPZG1xdHQg\n"
	"dGVzdCBDQSAxMRMwEQYDVQQKDApkbXF0dCB0ZXN0MB4XDTI1MDEwMTAwMDAwMFoX\n"
	"DTQ1MDEwMTAwMDAwMFowLzEYMBYGA1UEAwwPZG1xdHQgdGVzdCBDQSAxMRMwEQYD\n"
	"VQQKDApkbXF0dCB0ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEghLoGowm\n"
	"EAP9yKP4C3oVh30Xf3LIYJTslMdmwXFOQGD3YRYtPk3lBcJlNZNEdT4b+DYLhCTs\n"
	"w+Rxyf/8uxlBwKNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8EBAMCAQYw\n"
	"HQYDVR0OBBYEFJPMSCrF8lr/v0oRJdZ9fw298VNIMAoGCCqGSM49BAMCA0gAMEUC\n"
	"IAyd61diDdYTl7Unbl1ALVvvojhdiOocX0HmfN9SlM4eAiEAjEs4kSDe6Yr0FCkc\n"
	"JbXUeSXT8P0nx1/EtXC4ZiH6LyI=\n"
	"-----END CERTIFICATE-----\n";

static const char ca2_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDHDCCAgSgAwIBAgICEAEwDQYJKoZIhvcNAQELBQAwLzEYMBYGA1UEAwwPZG1x\n"
	"dHQgdGVzdCBDQSAyMRMwEQYDVQQKDApkbXF0dCB0ZXN0MB4XDTI1MDEwMTAwMDAw\n"
	"MFoXDTQ1MDEwMTAwMDAwMFowLzEYMBYGA1UEAwwPZG1xdHQgdGVzdCBDQSAyMRMw\n"
	"EQYDVQQKDApkbXF0dCB0ZXN0MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKC\n"
	"AQEAvNfEZlIElAH+li6i+DzlfvTp4AYplEcYDwtJ+eRVrGYtXcSeRWzlx5AjqsCL\n"
	"EivarQUDOxFVS2ELQ+BMGR2HlbhW9MSNyGWjwpHAYeKV7x8OKDxhJA+S3dUEIgxN\n"
	"ahDkyUCbmf0GALJ7MnDiuXFpey0/bFq0387DN6myamAxW8u2YVogs9+pDZHM7TUj\n"
	"6Bla4LsEKsYnY4bzd78gUdBd82s+BjrZp9JsWVhlzjoxMj3XyEyOcgw0zT4MAarD\n"
	"T8mKF+Ez9JmpGRHVP4aMaS0HX1mts3fyuVL2soq7D22WyQ1dvg+Rqwns1opLxDSp\n"
	"FzgEbfW0lCQnmTrdULDHpXpc0QIDAQABo0IwQDAPBgNVHRMBAf8EBTADAQH/MA4G\n"
	"A1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUPwIK2Rzk2sU7KY0LVT9Ci+iDOV4wDQYJ\n"
	"KoZIhvcNAQELBQADggEBAD8c5yiOyIBFj/sHYHsa6n7P77kkAP8HzC0N028dUUCQ\n"
	"oFkvZP00Rw3KItZbeqvA9a2+19Kq2tA9fWIs3tHAB1FkcToNnnruq/A739ThiKwO\n"
	"dQhwRy4H2qg5lxVvufwU3yqo4iby4r5SjwJ5JldxN/OEStj4pvupnHMike/vugQ8\n"
	"pSNgD5my+Lblf8m19NXN8MGegGydR/Fn79maZeGr0XaQaljq3mgcXnRe2B1ePEnR\n"
	"hN1BHMC/NNv9LT8/ioTnWSzWTpNrN3LfdJeT4m38r0Ix5IpX60squ4JYmfPkGSQY\n"
	"js6L810KgbOh1JgeCf2+3FkB0GN9ReZzsqo4TxnSXjc=\n"
	"-----END CERTIFICATE-----\n";

static const char srv_ec_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIByTCCAXCgAwIBAgICEAIwCgYIKoZIzj0EAwIwLzEYMBYGA1UEAwwPZG1xdHQg\n"
	"dGVzdCBDQSAxMRMwEQYDVQQKDApkbXF0dCB0ZXN0MB4XDTI1MDEwMTAwMDAwMFoX\n"
	"DTQ1MDEwMTAwMDAwMFowFDESMBAGA1UEAwwJbG9jYWxob3N0MFkwEwYHKoZIzj0C\n"
	"AQYIKoZIzj0DAQcDQgAE02XDpItJ7TD5N1muudfoiZ0KM86lkWCDvxBQjCCF/xob\n"
	"O6YxX0C2iywEmBOZBIcpthY0UDAYPkMuNkoSER/pcqOBljCBkzAJBgNVHRMEAjAA\n"
	"MA4GA1UdDwEB/wQEAwIFoDATBgNVHSUEDDAKBggrBgEFBQcDATAhBgNVHREEGjAY\n"
	"gglsb2NhbGhvc3SCC2Jyb2tlci50ZXN0MB0GA1UdDgQWBBQu1ftFlLjJ8XtnnLWC\n"
	"SnBYVZq+zzAfBgNVHSMEGDAWgBSTzEgqxfJa/79KESXWfX8NvfFTSDAKBggqhkjO\n"
	"PQQDAgNHADBEAiBTLOZZWfzRAGNaBIkqiBCoa62ViWUUnoeLmYBjK7zqXwIgCvP1\n"
	"21TfW3kpBPKJ+yjVOBywuRHmwiL4iVbgsTMhWbA=\n"
	"-----END CERTIFICATE-----\n";

static const char srv_ec_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgHvvGTHTsuf+6oiS8\n"
	"AbMejd/JmR4odMYVJMakaC4PFrahRANCAATTZcOki0ntMPk3Wa651+iJnQozzqWR\n"
	"YIO/EFCMIIX/Ghs7pjFfQLaLLASYE5kEhym2FjRQMBg+Qy42ShIRH+ly\n"
	"-----END PRIVATE KEY-----\n";

static const char srv_rsa_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIDVjCCAj6gAwIBAgICEAMwDQYJKoZIhvcNAQELBQAwLzEYMBYGA1UEAwwPZG1x\n"
	"dHQgdGVzdCBDQSAyMRMwEQYDVQQKDApkbXF0dCB0ZXN0MB4XDTI1MDEwMTAwMDAw\n"
	"MFoXDTQ1MDEwMTAwMDAwMFowFDESMBAGA1UEAwwJbG9jYWxob3N0MIIBIjANBgkq\n"
	"hkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr2ioQRdQZ180853jiXNEZjD4MsGbxoUM\n"
	"tyRUIe85LCh6VzwgkcUelIpkq4ZfKTE0S+vPqUJ3fKpIIvJkcsvlBRUAqEPm4/Ys\n"
	"+MQeSw3awHYL0h7RZIGdNFMH2+pdiSRdNVF+rAJ+CrX9nrCkgwDpD3V0WVvf8lus\n"
	"N7FJtYbe1wl21KOrCCVGdDkJqcQWCozfJVVMv5gDg2FleV0Y14g3ORATQkbXnVQe\n"
	"NgbHELPc6pWfN8TOTphjweZvIhFHAqSooqxr8ShcHQlydjkT9uZUJE/QgwPKLNB7\n"
	"EaOvW5mVbH7cZaqeNZyPb7euIRVBOngBSQEA14gSH6Iy3yoplfMZ+QIDAQABo4GW\n"
	"MIGTMAkGA1UdEwQCMAAwDgYDVR0PAQH/BAQDAgWgMBMGA1UdJQQMMAoGCCsGAQUF\n"
	"BwMBMCEGA1UdEQQaMBiCCWxvY2FsaG9zdIILYnJva2VyLnRlc3QwHQYDVR0OBBYE\n"
	"FOALN8M2hmDQnHlVipTWSGXWLrMcMB8GA1UdIwQYMBaAFD8CCtkc5NrFOymNC1U/\n"
	"QovogzleMA0GCSqGSIb3DQEBCwUAA4IBAQBuxcOs7IYd7I/92S0AACU9GSu5pLzL\n"
	"CE611QSBPD1MU9O5MkiOG4F0UkhNmGnU6XMziFKwjYqO6qizG9PP9TzBT3V753iL\n"
	"7/AZttZJGOsRd2DFO34wco45QJQ3thFyfxpfb93nDN+K69uq/Jwyjwi84/nz7RXz\n"
	"Qg+7doLthDmek6+suduMzdW8nk0xVPdQSFItIuJD5vRsk/u9Vdtfr+SlwYxHBBAh\n"
	"gYt3eF+lCnS0eOGkyg28I7nXTOlqCG7tqcAVImR/KI3lX1PIKS27Z3ar/zhCLpJl\n"
	"fZfF9Q5m2RC9f11A5ZlS9s3ol2n2UYvMUp33o4bxmwXSEJ9I+c4UjaVe\n"
	"-----END CERTIFICATE-----\n";

static const char srv_rsa_key[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCvaKhBF1BnXzTz\n"
	"neOJc0RmMPgywZvGhQy3JFQh7zksKHpXPCCRxR6UimSrhl8pMTRL68+pQnd8qkgi\n"
	"8mRyy+UFFQCoQ+bj9iz4xB5LDdrAdgvSHtFkgZ00Uwfb6l2JJF01UX6sAn4Ktf2e\n"
	"sKSDAOkPdXRZW9/yW6w3sUm1ht7XCXbUo6sIJUZ0OQmpxBYKjN8lVUy/mAODYWV5\n"
	"XRjXiDc5EBNCRtedVB42BscQs9zqlZ83xM5OmGPB5m8iEUcCpKiirGvxKFwdCXJ2\n"
	"ORP25lQkT9CDA8os0HsRo69bmZVsftxlqp41nI9vt64hFUE6eAFJAQDXiBIfojLf\n"
	"KimV8xn5AgMBAAECggEAEACbY/fPaCTXiPehJd2gEnYaeI/w6REjjjQ4YDGpvLlz\n"
	"ItD7lCzga7L9+Od8+D4yzA/W7bVAfx0uUFDegNoQ2lA2k4NBVc/0PZwvus9oYulK\n"
	"Dgjtd66686Z1B7c3gg7RGY+GH8Vo8At3GDJ7ia+MM5K2sv3Gnh7GpPyNscu8ee/O\n"
	"jyYfqUQN9QbN1LKSbzGlyYLBXXl2ORy4O2poan2HZlFx3MKwf/6sCmJiXJJKF03x\n"
	"8TaiCMesAiSR1wrfPELSm3OGwCJI7V3muNMkzBQYccrXEpPu16fhEYo/o1BEulNC\n"
	"7QkSnKXQ4K+tQDW7MdTSQu733d7yJ5nA1FAmhUleEQKBgQDUbNdR3uPDyAtgWaAw\n"
	"8vQsv0kFJbwl7AVsfWCFmNiOYI96himfqb3q4Gavw+GlDnqMOYMGLca0asa1XnN5\n"
	"cH5qc4wqeqMO9HfNzIe1KPAB4Vz/W+FBie4UqR6cja/iMVcZAazRApYK0maximM3\n"
	"nuwcUQu94EVuvgC83u+aPbfyCQKBgQDTY/auco4xNt0O701Uxn8sUz0Ur8XRHhTV\n"
	"MEK9HSxWf5EGgoh/Raet4YCcFCwvy56X6GEfy5UJqo+f1VguQfSJmx8ysz1ZdkS6\n"
	"hwxxb8jWaV1tbeP0QmhA9Qsw/6j4F/GdfsNYGE4c7ppXSUFtK+Y8NXi0HMggMo/v\n"
	"gNDQOfgkcQKBgGUnj0FFSmComgI/q7CjgPLuA++XkIjeY5bN/XCg4D6sbKaDzL5j\n"
	"LjTytvNr67+VrXWozWPb2IuBbS5g08w4bXpzm4N+8rbkY0h05Qq3e9LpZkeTkSiM\n"
	"bfsYraMPNXoY1Mjrq0e8W4a7untA0w5hdz3kuhqo+WdKwz8tShvA2B9BAoGBAKLb\n"
	"Lp7zDm0H8YKiBhe73RoO/s3DJUmYPUCJL8F2ikQRf29efT5gMXCafHTCbdBctNAf\n"
	"bUQLmcSarI/c01S/519kLMLop+kWXpi9lm6GSlo1To8RzD7QMnVo07hqHokUGUbW\n"
	"9DQYdYWApVN90nQDEBturpFEY0G68nz35uek4XFhAoGAXKWijPifq8GKGQFkyWTD\n"
	"RiZsdA0KPDg44t1u34yJ2tFjt78npCdPVvsGqExZ7gw6IC2erSX3GX5vu8c3+FKh\n"
	"r/vBllbpLLY4wBEAPGypynKu23gdOWMnYI1R7jd3u52hnphgs1BOxTb4v/aBNPG/\n"
	"TRqIyzMbGe+Jb5zIwLR8/VQ=\n"
	"-----END PRIVATE KEY-----\n";

static const char cli_ec_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBqzCCAVGgAwIBAgICEAQwCgYIKoZIzj0EAwIwLzEYMBYGA1UEAwwPZG1xdHQg\n"
	"dGVzdCBDQSAxMRMwEQYDVQQKDApkbXF0dCB0ZXN0MB4XDTI1MDEwMTAwMDAwMFoX\n"
	"DTQ1MDEwMTAwMDAwMFowGjEYMBYGA1UEAwwPZG1xdHQgY2xpZW50IGVjMFkwEwYH\n"
	"KoZIzj0CAQYIKoZIzj0DAQcDQgAE7x7YAKUvI9Y0vjEWoMlugbHQQW6vyI6as2PO\n"
	"q/ZL/T1XeraGClX8zYGsJA3oSBs1701YgyMI+koWutLquGsmaqNyMHAwCQYDVR0T\n"
	"BAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0O\n"
	"BBYEFK0yWTubeazbRqOnrKLRT9PgkxxMMB8GA1UdIwQYMBaAFJPMSCrF8lr/v0oR\n"
	"JdZ9fw298VNIMAoGCCqGSM49BAMCA0gAMEUCIQC+fXGvUl3JIGI/EG72HW1I/05T\n"
	"gv4qDBfqwOLFtU3S8AIgKK2AVDQUBWbhhnh7zcWc2WE1pSG5PobH3rx/iwzlkRQ=\n"
	"-----END CERTIFICATE-----\n";

static const char cli_ec_key[] =
	"-----BEGIN EC PRIVATE KEY-----\n"
	"MHcCAQEEIJF5yiy/c5IWAxP1FJYQXw842dOAAWNADus7OHQHZCXtoAoGCCqGSM49\n"
	"AwEHoUQDQgAE7x7YAKUvI9Y0vjEWoMlugbHQQW6vyI6as2POq/ZL/T1XeraGClX8\n"
	"zYGsJA3oSBs1701YgyMI+koWutLquGsmag==\n"
	"-----END EC PRIVATE KEY-----\n";

static const char cli_rsa_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIICdjCCAh2gAwIBAgICEAUwCgYIKoZIzj0EAwIwLzEYMBYGA1UEAwwPZG1xdHQg\n"
	"dGVzdCBDQSAxMRMwEQYDVQQKDApkbXF0dCB0ZXN0MB4XDTI1MDEwMTAwMDAwMFoX\n"
	"DTQ1MDEwMTAwMDAwMFowGzEZMBcGA1UEAwwQZG1xdHQgY2xpZW50IHJzYTCCASIw\n"
	"DQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAK7A/YW9XXy8IUo3s2lXSbAD/o9T\n"
	"Rbgl40SAVdgtj5TvSRwfrMlkeumt1tZZ/zHYrhI3HK8j8UznbO1IWIuI6/kI70dn\n"
	"Fefrcx8FZ3nE0J/PQ4Vgy46FLroXgV19LkJmcXtETKKzeLWTTGHCRTWWvN86cTNo\n"
	"zvp4Pq8y2LSgHpn9FgD79/bJOn7yVyK1XgZF/XpAeAclCBAnKKdv7/BQ0WjOVrxt\n"
	"n79cHaqyoKxEjo+1azUQyK4jZ+S6bM8p3qRGyBlw0DOE8819a2tkJ8mp6z5q9gct\n"
	"vBlVTWebXxKKdvBm5AF4rHoBzbakYQdbTaWCX8rzLe3TASh/HIIu0z3u2qUCAwEA\n"
	"AaNyMHAwCQYDVR0TBAIwADAOBgNVHQ8BAf8EBAMCB4AwEwYDVR0lBAwwCgYIKwYB\n"
	"BQUHAwIwHQYDVR0OBBYEFMfjpEWUIINBkzvtXVcWfKNCmGbaMB8GA1UdIwQYMBaA\n"
	"FJPMSCrF8lr/v0oRJdZ9fw298VNIMAoGCCqGSM49BAMCA0cAMEQCIGeMIPCKg/kd\n"
	"xO/RH0oAmDGAqve3ykNpBgD20fwN8zJxAiBP0TS0V9CgKdlWT2O2emIkOnX1aakV\n"
	"KFzXelcSJ1DwjQ==\n"
	"-----END CERTIFICATE-----\n";

static const char cli_rsa_key[] =
	"-----BEGIN RSA PRIVATE KEY-----\n"
	"MIIEpAIBAAKCAQEArsD9hb1dfLwhSjezaVdJsAP+j1NFuCXjRIBV2C2PlO9JHB+s\n"
	"yWR66a3W1ln/MdiuEjccryPxTOds7UhYi4jr+QjvR2cV5+tzHwVnecTQn89DhWDL\n"
	"joUuuheBXX0uQmZxe0RMorN4tZNMYcJFNZa83zpxM2jO+ng+rzLYtKAemf0WAPv3\n"
	"9sk6fvJXIrVeBkX9ekB4ByUIECcop2/v8FDRaM5WvG2fv1wdqrKgrESOj7VrNRDI\n"
	"riNn5LpszynepEbIGXDQM4TzzX1ra2QnyanrPmr2By28GVVNZ5tfEop28GbkAXis\n"
	"egHNtqRhB1tNpYJfyvMt7dMBKH8cgi7TPe7apQIDAQABAoIBAAmWMkJCOWz0mCHt\n"
	"bNT4UiVLDs23jIFV6MITBUKS+0e5GcpmbXDt53VG0VyYetC1+ZSru9Ha16u3nWjl\n"
	"+V+MPx++Dvxcih3bM4lN31eVhblioipgvUIACehxDip+CcngO1T/EfIyBMr3Pe81\n"
	"/Fx8fLeFSfz/QK2KZ6vuTueXyh355iKaMVR5LhOWQNjbPyERPs08JId6kfpX2cjY\n"
	"W4VHSzeNlifc+c9XI6CgTIqvDAprSVrcyx6k/wHj6yMOqJ+dvm/VpYDApO/4FWpF\n"
	"aC4gT/BvxArBmYojMF+5wZoU+eNOaIU3aXa82xBMbjOH5dFkcfVCdCh0mQZmkWi2\n"
	"QwanSpkCgYEA9XBsnV9rzikESBvg3Bfbp0L3xj8ueDOzJwnzC35PxQtSrpfS6FCT\n"
	"iqh0AP7pMhxen7PS23Bmmuh0n8tjzlu2YbQqQl0XR2oGcMTk7umjwjYe4Uv/IyV+\n"
	"pFWmIC/ZnuwNGAv5xnZgltuzmWyZaVF+V6aOn/Y5dTroN09cblt3IIkCgYEAtkXz\n"
	"Bymnr79zPBLpFjqmOsSPC0b31DTUsZWlKxtOrhChk5F8Pwm/RDgiYQSYNSpiSvgX\n"
	"I5fEn1nggnuJj+GTTD1uMPUyQc3lo9gM8Qbd8Uv2h5VYH+MSPY58gw7eNB5RzGm1\n"
	"CX/OcZIUk/vNhuLw8RMvbHQwwH7ON6bfumPgyj0CgYEAsO5WniwHfxq6Z3ERbBgW\n"
	"1EDGdTdevHAomd/mQUbRIm7DL/FqrOZJNg+xcHZSjTk+TUpImsAwd0NTr03jqQMc\n"
	"OtqyDB0nhue7tNd7YW80CfER2b/7MM76uGS12UYlTxdDaS5Y5OS5RIcktVlATlfd\n"
	"CDqdXlsVmJjaheTD8RomimECgYEAs3YfmDfNIF7xiH5d/EL2k/oflMzlCYyStd5O\n"
	"5yhVyVAapf6iRDbGmNZkEv3BFueKK6IktiihsPt+7znO8Vj5/CCns5BXUS72IOGB\n"
	"rHZEY2WVb1z9jTe3J+B4e1lSMiKACzEwzA+IJY3csO9FJr+e1t063h9wOLchNu4Y\n"
	"bZ4VH0kCgYAncc7OkjKRGDBwcAtneDBNCLbn5Yiigr6fJWlQcR/KgUk1br6Fntm8\n"
	"eCmj417CtBOQ+RE04lMWazgUWSE4mx7PEmbVnbbBToeiH2S09H9ndXVKWJOtg43N\n"
	"w94qVlHdsm5qwXuSLpG7wLRYNaTJNsOU0P/+oqSAZbHF//xPRruBeQ==\n"
	"-----END RSA PRIVATE KEY-----\n";

/* ---- helpers ---------------------------------------------------------- */

static unsigned char arena_a[16384], arena_b[16384], arena_c[16384], arena_d[16384];

static pem_anchors_t load_anchors(const char *pem, void *arena)
{
	pem_anchors_t ta;
	pem_diag_t d;
	pem_status_t st = pem_load_anchors(pem, strlen(pem), arena, 16384, &ta, &d);
	if (st != PEM_OK)
		unit_fail(__FILE__, __LINE__, "anchors: %s", pem_strerror(st));
	return ta;
}

static pem_chain_t load_chain(const char *pem, void *arena)
{
	pem_chain_t ch;
	pem_diag_t d;
	pem_status_t st = pem_load_chain(pem, strlen(pem), arena, 16384, &ch, &d);
	if (st != PEM_OK)
		unit_fail(__FILE__, __LINE__, "chain: %s", pem_strerror(st));
	return ch;
}

static pem_key_t load_key(const char *pem, void *arena)
{
	pem_key_t k;
	pem_diag_t d;
	pem_status_t st = pem_load_key(pem, strlen(pem), arena, 16384, &k, &d);
	if (st != PEM_OK)
		unit_fail(__FILE__, __LINE__, "key: %s", pem_strerror(st));
	return k;
}

/* a + b concatenated into a static buffer */
static char catbuf[8192];
static const char *cat2(const char *a, const char *b)
{
	snprintf(catbuf, sizeof catbuf, "%s%s", a, b);
	return catbuf;
}

/* ---- PEM: trust anchors ----------------------------------------------- */

static void pem_anchors_two_cas(void)
{
	pem_anchors_t ta;
	pem_diag_t d;
	const char *both = cat2(ca1_pem, ca2_pem);

	/* dry run: validates and measures */
	CHECK_INT(pem_load_anchors(both, strlen(both), NULL, 0, &ta, &d), PEM_E_SPACE);
	CHECK(d.need > 0 && d.need < 2048);
	CHECK_INT(pem_load_anchors(both, strlen(both), arena_a, d.need, &ta, &d), PEM_OK);
	CHECK_INT(ta.n, 2);
	CHECK_INT(ta.ta[0].flags, BR_X509_TA_CA);
	CHECK_INT(ta.ta[0].pkey.key_type, BR_KEYTYPE_EC);
	CHECK_INT(ta.ta[0].pkey.key.ec.curve, BR_EC_secp256r1);
	CHECK_INT(ta.ta[0].pkey.key.ec.qlen, 65);
	CHECK_INT(ta.ta[1].pkey.key_type, BR_KEYTYPE_RSA);
	CHECK_INT(ta.ta[1].pkey.key.rsa.nlen, 256);
	/* the DN is the encoded subject: contains the CN text */
	CHECK(ta.ta[0].dn.len > 20);
	{
		const unsigned char *p = ta.ta[1].dn.data;
		int found = 0;
		for (size_t i = 0; i + 15 <= ta.ta[1].dn.len; i++)
			found |= memcmp(p + i, "dmqtt test CA 2", 15) == 0;
		CHECK(found);
	}
	/* everything lies inside the arena */
	CHECK((unsigned char *)ta.ta >= arena_a && (unsigned char *)(ta.ta + 2) <= arena_a + d.need);
	CHECK(ta.ta[1].dn.data >= arena_a && ta.ta[1].dn.data < arena_a + d.need);
	/* one byte short is too small */
	CHECK_INT(pem_load_anchors(both, strlen(both), arena_b, d.need - 16, &ta, &d), PEM_E_SPACE);
}

static void pem_anchors_odd_arena(void)
{
	pem_anchors_t ta;
	pem_diag_t d;
	const char *both = cat2(ca2_pem, ca1_pem);
	CHECK_INT(pem_load_anchors(both, strlen(both), NULL, 0, &ta, &d), PEM_E_SPACE);
	/* a misaligned arena start still works with the measured size */
	CHECK_INT(pem_load_anchors(both, strlen(both), arena_a + 3, d.need, &ta, &d), PEM_OK);
	CHECK_INT(ta.n, 2);
	CHECK_INT(((uintptr_t)ta.ta) % _Alignof(br_x509_trust_anchor), 0);
	CHECK_INT(ta.ta[0].pkey.key_type, BR_KEYTYPE_RSA); /* file order kept */
}

static void pem_anchors_crlf_and_noise(void)
{
	char buf[4096];
	size_t o = 0;
	pem_anchors_t ta;
	pem_diag_t d;
	o += (size_t)snprintf(buf, sizeof buf, "Subject: some text before\r\n");
	for (const char *p = ca1_pem; *p != '\0'; p++) {
		if (*p == '\n')
			buf[o++] = '\r';
		buf[o++] = *p;
	}
	memcpy(buf + o, "trailing words", 14);
	o += 14;
	CHECK_INT(pem_load_anchors(buf, o, arena_a, sizeof arena_a, &ta, &d), PEM_OK);
	CHECK_INT(ta.n, 1);
}

static void pem_anchors_no_cert(void)
{
	pem_anchors_t ta;
	pem_diag_t d;
	static const char garbage[] = "hello, this is not PEM at all\n\x01\x02\xff";
	CHECK_INT(pem_load_anchors(garbage, sizeof garbage - 1, arena_a, sizeof arena_a, &ta, &d), PEM_E_NO_CERT);
	CHECK_INT(pem_load_anchors("", 0, arena_a, sizeof arena_a, &ta, &d), PEM_E_NO_CERT);
	/* only a key: no CERTIFICATE block */
	CHECK_INT(pem_load_anchors(cli_ec_key, strlen(cli_ec_key), arena_a, sizeof arena_a, &ta, &d), PEM_E_NO_CERT);
}

/* a copy of pem with count base64 characters of line `line` removed */
static const char *cut_line(const char *pem, int line, size_t count)
{
	size_t o = 0;
	int l = 0;
	for (const char *p = pem; *p != '\0'; p++) {
		if (l == line && count > 0 && *p != '\n') {
			count--;
			continue;
		}
		catbuf[o++] = *p;
		if (*p == '\n')
			l++;
	}
	catbuf[o] = '\0';
	return catbuf;
}

static void pem_anchors_truncated_cert(void)
{
	pem_anchors_t ta;
	pem_diag_t d;
	char two[8192];
	/* the second certificate loses a whole line (64 characters: whole
	 * quartets, so the base64 stays valid but the DER is short) */
	snprintf(two, sizeof two, "%s%s", ca1_pem, cut_line(ca2_pem, 3, 64));
	CHECK_INT(pem_load_anchors(two, strlen(two), arena_a, sizeof arena_a, &ta, &d), PEM_E_BAD_CERT);
	CHECK_INT(d.index, 2);
	CHECK_INT(d.line, 12); /* ca1 is 11 lines */
	CHECK(d.br_err != 0);
	/* and cut in the middle of a quartet: bad base64 */
	snprintf(two, sizeof two, "%s", cut_line(ca1_pem, 2, 3));
	CHECK_INT(pem_load_anchors(two, strlen(two), arena_a, sizeof arena_a, &ta, &d), PEM_E_SYNTAX);
	CHECK_INT(d.index, 1);
}

static void pem_anchors_unterminated(void)
{
	pem_anchors_t ta;
	pem_diag_t d;
	size_t n = strlen(ca1_pem) - strlen("-----END CERTIFICATE-----\n");
	CHECK_INT(pem_load_anchors(ca1_pem, n, arena_a, sizeof arena_a, &ta, &d), PEM_E_SYNTAX);
	CHECK_INT(d.index, 1);
	/* no trailing newline after END is fine */
	CHECK_INT(pem_load_anchors(ca1_pem, strlen(ca1_pem) - 1, arena_a, sizeof arena_a, &ta, &d), PEM_OK);
}

static void pem_anchors_garbage_der(void)
{
	pem_anchors_t ta;
	pem_diag_t d;
	static const char pem[] = "-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n";
	CHECK_INT(pem_load_anchors(pem, sizeof pem - 1, arena_a, sizeof arena_a, &ta, &d), PEM_E_BAD_CERT);
	CHECK_INT(d.index, 1);
	CHECK_INT(d.line, 1);
}

static unsigned char derbuf[2048];

static void der_append(void *ctx, const void *buf, size_t len)
{
	size_t *n = ctx;
	memcpy(derbuf + *n, buf, len);
	*n += len;
}

/* the DER of the first block of pem, into out (static, 2 KiB) */
static size_t pem_der(const char *pem, unsigned char *out)
{
	br_pem_decoder_context pc;
	size_t n = 0, len = strlen(pem);
	br_pem_decoder_init(&pc);
	while (len > 0) {
		size_t k = br_pem_decoder_push(&pc, pem, len);
		pem += k;
		len -= k;
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			br_pem_decoder_setdest(&pc, der_append, &n);
			break;
		case BR_PEM_END_OBJ:
			memcpy(out, derbuf, n);
			return n;
		default:
			break;
		}
	}
	return 0;
}

/* DER followed by junk inside one block: refused, not pushed past the end
 * of BearSSL's decoder (a fuzzer find) */
static void pem_trailing_bytes(void)
{
	pem_chain_t ch = load_chain(ca1_pem, arena_b);
	static unsigned char der[2048];
	static char pem[4096];
	pem_anchors_t ta;
	pem_key_t k;
	pem_diag_t d;
	size_t n = ch.certs[0].data_len;

	memcpy(der, ch.certs[0].data, n);
	memcpy(der + n, "\x00\x01\x02", 3);
	CHECK(br_pem_encode(pem, der, n + 3, "CERTIFICATE", 0) > 0);
	CHECK_INT(pem_load_anchors(pem, strlen(pem), arena_a, sizeof arena_a, &ta, &d), PEM_E_BAD_CERT);
	CHECK_INT(d.br_err, BR_ERR_X509_EXTRA_ELEMENT);
	/* the same for a key: decode one, re-encode it with junk after it */
	n = pem_der(cli_ec_key, der);
	CHECK(n > 100);
	memcpy(der + n, "\x00\x01\x02", 3);
	CHECK(br_pem_encode(pem, der, n + 3, "EC PRIVATE KEY", 0) > 0);
	CHECK_INT(pem_load_key(pem, strlen(pem), arena_a, sizeof arena_a, &k, &d), PEM_E_BAD_KEY);
	CHECK_INT(d.br_err, BR_ERR_X509_EXTRA_ELEMENT);
	CHECK(br_pem_encode(pem, der, n, "EC PRIVATE KEY", 0) > 0);
	CHECK_INT(pem_load_key(pem, strlen(pem), arena_a, sizeof arena_a, &k, &d), PEM_OK);
}

/* ---- PEM: chains and keys --------------------------------------------- */

static void pem_chain_two(void)
{
	pem_chain_t ch;
	pem_diag_t d;
	const char *both = cat2(cli_ec_pem, ca1_pem);
	CHECK_INT(pem_load_chain(both, strlen(both), arena_a, sizeof arena_a, &ch, &d), PEM_OK);
	CHECK_INT(ch.n, 2);
	CHECK_INT(ch.key_type, BR_KEYTYPE_EC);
	CHECK_INT(ch.signer_key_type, BR_KEYTYPE_EC);
	CHECK(ch.certs[0].data_len > 300 && ch.certs[0].data[0] == 0x30);
	CHECK(ch.certs[1].data_len > 300 && ch.certs[1].data[0] == 0x30);
	ch = load_chain(srv_rsa_pem, arena_b);
	CHECK_INT(ch.key_type, BR_KEYTYPE_RSA);
	CHECK_INT(ch.signer_key_type, BR_KEYTYPE_RSA);
	ch = load_chain(cli_rsa_pem, arena_b);
	CHECK_INT(ch.key_type, BR_KEYTYPE_RSA);
	CHECK_INT(ch.signer_key_type, BR_KEYTYPE_EC);
}

static void pem_keys(void)
{
	pem_key_t k;
	pem_diag_t d;

	k = load_key(cli_rsa_key, arena_a);          /* PKCS#1 */
	CHECK_INT(k.type, BR_KEYTYPE_RSA);
	CHECK_INT(k.k.rsa.n_bitlen, 2048);
	k = load_key(cli_ec_key, arena_a);           /* SEC1 (with no params block) */
	CHECK_INT(k.type, BR_KEYTYPE_EC);
	CHECK_INT(k.k.ec.curve, BR_EC_secp256r1);
	CHECK_INT(k.k.ec.xlen, 32);
	k = load_key(srv_ec_key, arena_a);           /* PKCS#8 EC */
	CHECK_INT(k.type, BR_KEYTYPE_EC);
	k = load_key(srv_rsa_key, arena_a);          /* PKCS#8 RSA */
	CHECK_INT(k.type, BR_KEYTYPE_RSA);
	/* a key file with the certificate in it too */
	k = load_key(cat2(cli_ec_pem, cli_ec_key), arena_a);
	CHECK_INT(k.type, BR_KEYTYPE_EC);
	/* measuring */
	CHECK_INT(pem_load_key(cli_rsa_key, strlen(cli_rsa_key), NULL, 0, &k, &d), PEM_E_SPACE);
	CHECK(d.need > 5 * 128 && d.need < 5 * 128 + 64);
	CHECK_INT(pem_load_key(cli_rsa_key, strlen(cli_rsa_key), arena_b, d.need, &k, &d), PEM_OK);
}

static void pem_key_errors(void)
{
	pem_key_t k;
	pem_diag_t d;
	static const char enc8[] = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n";
	static const char legacy[] = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
		"DEK-Info: AES-128-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
	static const char junk[] = "-----BEGIN PRIVATE KEY-----\nAAECAwQFBgcICQ==\n-----END PRIVATE KEY-----\n";
	CHECK_INT(pem_load_key(enc8, sizeof enc8 - 1, arena_a, sizeof arena_a, &k, &d), PEM_E_KEY_ENCRYPTED);
	CHECK_INT(pem_load_key(legacy, sizeof legacy - 1, arena_a, sizeof arena_a, &k, &d), PEM_E_KEY_ENCRYPTED);
	CHECK_INT(pem_load_key(junk, sizeof junk - 1, arena_a, sizeof arena_a, &k, &d), PEM_E_BAD_KEY);
	CHECK(d.br_err != 0);
	CHECK_INT(pem_load_key(ca1_pem, strlen(ca1_pem), arena_a, sizeof arena_a, &k, &d), PEM_E_NO_KEY);
	CHECK_INT(pem_load_key("x", 1, arena_a, sizeof arena_a, &k, &d), PEM_E_NO_KEY);
	{
		const char *two = cat2(cli_ec_key, srv_ec_key);
		CHECK_INT(pem_load_key(two, strlen(two), arena_a, sizeof arena_a, &k, &d), PEM_E_TWO_KEYS);
	}
}

static void pem_key_match(void)
{
	pem_chain_t ec = load_chain(cli_ec_pem, arena_a), rsa = load_chain(cli_rsa_pem, arena_b);
	pem_key_t eck = load_key(cli_ec_key, arena_c), rsak = load_key(cli_rsa_key, arena_d);
	CHECK_INT(pem_key_matches(&eck, &ec), PEM_OK);
	CHECK_INT(pem_key_matches(&rsak, &rsa), PEM_OK);
	CHECK_INT(pem_key_matches(&eck, &rsa), PEM_E_KEY_MISMATCH);
	CHECK_INT(pem_key_matches(&rsak, &ec), PEM_E_KEY_MISMATCH);
	eck = load_key(srv_ec_key, arena_c);
	CHECK_INT(pem_key_matches(&eck, &ec), PEM_E_KEY_MISMATCH);
	rsak = load_key(srv_rsa_key, arena_d);
	CHECK_INT(pem_key_matches(&rsak, &rsa), PEM_E_KEY_MISMATCH);
}

/* ---- certificate reader ------------------------------------------------ */

static void tls_certinfo_reads(void)
{
	pem_chain_t ch = load_chain(cat2(srv_ec_pem, ca1_pem), arena_a);
	tls_certinfo_t ci;

	tls_certinfo_init(&ci);
	for (size_t i = 0; i < ch.certs[0].data_len; i++)
		tls_certinfo_push(&ci, ch.certs[0].data + i, 1);
	CHECK(tls_certinfo_done(&ci));
	CHECK_STR(ci.not_before, "20250101000000");
	CHECK_STR(ci.not_after, "20450101000000");
	CHECK(memcmp(ci.issuer, ci.subject, 32) != 0);

	tls_certinfo_init(&ci);
	tls_certinfo_push(&ci, ch.certs[1].data, ch.certs[1].data_len);
	CHECK(tls_certinfo_done(&ci));
	CHECK(memcmp(ci.issuer, ci.subject, 32) == 0); /* the CA is self-signed */

	/* a prefix is not done; garbage is not done and does not crash */
	tls_certinfo_init(&ci);
	tls_certinfo_push(&ci, ch.certs[0].data, 40);
	CHECK(!tls_certinfo_done(&ci));
	tls_certinfo_init(&ci);
	tls_certinfo_push(&ci, (const uint8_t *)"\x30\x84\xff\xff\xff\xff\x30\x80", 8);
	CHECK(!tls_certinfo_done(&ci));
}

/* ---- the in-memory handshake ------------------------------------------ */

struct pipe {
	unsigned char buf[1 << 16];
	size_t len;
	int eof;
};

struct wire {
	struct pipe c2s, s2c;
	int mode;            /* 0: whole, 1: one byte, 2: random chunks */
	uint32_t rnd;
	const char *canned;  /* when set: the "server" just sends these bytes */
	size_t canned_len;
};

static struct wire W;

static size_t limit(size_t want)
{
	size_t lim = want;
	if (W.mode == 1) {
		lim = 1;
	} else if (W.mode == 2) {
		W.rnd ^= W.rnd << 13;
		W.rnd ^= W.rnd >> 17;
		W.rnd ^= W.rnd << 5;
		lim = 1 + W.rnd % 700;
	}
	return lim < want ? lim : want;
}

static size_t pipe_put(struct pipe *p, const unsigned char *b, size_t n)
{
	if (n > sizeof p->buf - p->len)
		n = sizeof p->buf - p->len;
	memcpy(p->buf + p->len, b, n);
	p->len += n;
	return n;
}

static size_t pipe_get(struct pipe *p, unsigned char *b, size_t n)
{
	if (n > p->len)
		n = p->len;
	memcpy(b, p->buf, n);
	memmove(p->buf, p->buf + n, p->len - n);
	p->len -= n;
	return n;
}

static long fake_recv(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	if (W.s2c.len == 0)
		return W.s2c.eof ? IO_EOF : 0;
	return (long)pipe_get(&W.s2c, buf, limit(len));
}

/* a copy of everything the client ever sent */
static unsigned char sent_log[1 << 16];
static size_t sent_log_len;

static int send_fails; /* the peer has reset the connection */

static long fake_send(void *ctx, const uint8_t *buf, size_t len)
{
	size_t n;
	(void)ctx;
	if (send_fails)
		return IO_ERR;
	n = pipe_put(&W.c2s, buf, limit(len));
	if (n <= sizeof sent_log - sent_log_len) {
		memcpy(sent_log + sent_log_len, buf, n);
		sent_log_len += n;
	}
	return (long)n;
}

static int closed_lower;
static void fake_close(void *ctx)
{
	(void)ctx;
	closed_lower++;
}

/* the server */
static br_ssl_server_context S;
static br_x509_minimal_context SX;
static unsigned char sbuf[BR_SSL_BUFSIZE_BIDI];
static unsigned char srv_got[1 << 15];
static size_t srv_got_len;

static void server_start(int ec, const br_x509_trust_anchor *client_cas, size_t nca)
{
	static pem_chain_t ch;
	static pem_key_t k;
	if (ec) {
		ch = load_chain(srv_ec_pem, arena_c);
		k = load_key(srv_ec_key, arena_d);
		br_ssl_server_init_full_ec(&S, ch.certs, ch.n, BR_KEYTYPE_EC, &k.k.ec);
	} else {
		ch = load_chain(srv_rsa_pem, arena_c);
		k = load_key(srv_rsa_key, arena_d);
		br_ssl_server_init_full_rsa(&S, ch.certs, ch.n, &k.k.rsa);
	}
	if (client_cas != NULL) {
		br_x509_minimal_init_full(&SX, client_cas, nca);
		br_x509_minimal_set_time(&SX, 719528 + NOW_2030 / 86400, 0);
		br_ssl_engine_set_x509(&S.eng, &SX.vtable);
		/* to verify the client's CertificateVerify */
		br_ssl_engine_set_default_rsavrfy(&S.eng);
		br_ssl_engine_set_default_ecdsa(&S.eng);
		br_ssl_server_set_trust_anchor_names_alt(&S, client_cas, nca);
	}
	br_ssl_engine_set_buffer(&S.eng, sbuf, sizeof sbuf, 1);
	br_ssl_engine_inject_entropy(&S.eng, "server entropy, fixed for tests", 32);
	CHECK(br_ssl_server_reset(&S));
	srv_got_len = 0;
}

/* move bytes between the server engine and the pipes; 1 if anything moved */
static int server_pump(void)
{
	int moved = 0;
	if (W.canned != NULL) {
		size_t n = pipe_put(&W.s2c, (const unsigned char *)W.canned, W.canned_len);
		W.canned += n;
		W.canned_len -= n;
		if (W.canned_len == 0)
			W.canned = NULL;
		W.c2s.len = 0;
		return n > 0;
	}
	for (;;) {
		unsigned st = br_ssl_engine_current_state(&S.eng);
		size_t n;
		unsigned char *p;
		if (st & BR_SSL_CLOSED)
			return moved;
		if (st & BR_SSL_SENDREC) {
			p = br_ssl_engine_sendrec_buf(&S.eng, &n);
			n = pipe_put(&W.s2c, p, n);
			if (n > 0) {
				br_ssl_engine_sendrec_ack(&S.eng, n);
				moved = 1;
				continue;
			}
		}
		if ((st & BR_SSL_RECVREC) && W.c2s.len > 0) {
			p = br_ssl_engine_recvrec_buf(&S.eng, &n);
			n = pipe_get(&W.c2s, p, n);
			br_ssl_engine_recvrec_ack(&S.eng, n);
			moved = 1;
			continue;
		}
		if (st & BR_SSL_RECVAPP) {
			p = br_ssl_engine_recvapp_buf(&S.eng, &n);
			if (n > sizeof srv_got - srv_got_len)
				n = sizeof srv_got - srv_got_len;
			memcpy(srv_got + srv_got_len, p, n);
			srv_got_len += n;
			br_ssl_engine_recvapp_ack(&S.eng, n);
			moved = 1;
			continue;
		}
		return moved;
	}
}

static tls_client_t C;
static io_transport_t T;
static pem_anchors_t TA;

static void wire_reset(int mode)
{
	memset(&W, 0, sizeof W);
	W.mode = mode;
	W.rnd = 0x9e3779b9u;
	sent_log_len = 0;
	closed_lower = 0;
	send_fails = 0;
}

static tls_status_t client_start(const char *anchors_pem, const char *name,
	int64_t now, const pem_chain_t *chain, const pem_key_t *key)
{
	static const uint8_t ent[32] = "client entropy, fixed for tests";
	tls_config_t cfg = { 0 };
	io_transport_t lower = { NULL, fake_recv, fake_send, NULL, fake_close };
	tls_status_t st;

	TA = load_anchors(anchors_pem, arena_a);
	cfg.anchors = &TA;
	cfg.chain = chain;
	cfg.key = key;
	cfg.server_name = name;
	cfg.now = now;
	cfg.entropy = ent;
	cfg.entropy_len = sizeof ent;
	st = tls_client_init(&C, &cfg);
	tls_transport(&C, &lower, &T);
	return st;
}

/* run the handshake to its end: 1 done, 0 stuck, else the negative IO code */
static int handshake(void)
{
	for (int i = 0; i < 100000; i++) {
		int r = tls_handshake(&C);
		if (r != 0)
			return r;
		if (!server_pump() && W.s2c.len == 0 && W.canned == NULL && !W.s2c.eof)
			return 0; /* nothing moves any more */
	}
	return 0;
}

static unsigned char big[6000];

static void exchange(void)
{
	size_t sent = 0, got = 0;
	unsigned char rx[7000];
	int i;

	for (size_t k = 0; k < sizeof big; k++)
		big[k] = (unsigned char)(k * 7 + 3);
	/* client -> server: 3000 bytes (six records of 512) */
	for (i = 0; i < 200000 && srv_got_len < 3000; i++) {
		if (sent < 3000) {
			long r = T.send(T.ctx, big + sent, 3000 - sent);
			CHECK(r >= 0);
			sent += (size_t)r;
		}
		if (T.events(T.ctx, sent < 3000) & IO_WANT_WRITE) {
			long r = T.send(T.ctx, big, 0);
			CHECK(r >= 0);
		}
		server_pump();
	}
	CHECK_INT(srv_got_len, 3000);
	CHECK_MEM(srv_got, srv_got_len, big, 3000);

	/* server -> client: 5000 bytes */
	{
		size_t off = 0;
		for (i = 0; i < 200000 && got < 5000; i++) {
			size_t n;
			unsigned char *p = br_ssl_engine_sendapp_buf(&S.eng, &n);
			if (p != NULL && off < 5000) {
				if (n > 5000 - off)
					n = 5000 - off;
				memcpy(p, big + 1000 + off, n);
				br_ssl_engine_sendapp_ack(&S.eng, n);
				br_ssl_engine_flush(&S.eng, 0);
				off += n;
			}
			server_pump();
			for (;;) {
				long r = T.recv(T.ctx, rx + got, sizeof rx - got);
				CHECK(r >= 0);
				if (r == 0)
					break;
				got += (size_t)r;
			}
		}
	}
	CHECK_INT(got, 5000);
	CHECK_MEM(rx, got, big + 1000, 5000);
}

static void full_session(int ec, int mode)
{
	wire_reset(mode);
	server_start(ec, NULL, 0);
	CHECK_INT(client_start(cat2(ca2_pem, ca1_pem), "localhost", NOW_2030, NULL, NULL), TLS_OK);
	CHECK_INT(handshake(), 1);
	CHECK_INT(tls_status(&C), TLS_OK);
	CHECK_INT(tls_version(&C), BR_TLS12);
	CHECK_STR(tls_suite_name(tls_suite(&C)), ec ?
		"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" : "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
	CHECK_STR(tls_server_name(&C), "localhost");
	CHECK(!C.cert_requested);
	exchange();
	/* the peer saw records of at most TLS_FRAG_LEN: the server honoured
	 * the max_fragment_length we asked for */
	CHECK_INT(S.eng.max_frag_len, TLS_FRAG_LEN);
	T.close(T.ctx);
	CHECK_INT(closed_lower, 1);
	server_pump();
	CHECK(br_ssl_engine_current_state(&S.eng) & BR_SSL_CLOSED);
	CHECK_INT(br_ssl_engine_last_error(&S.eng), 0); /* clean close_notify */
}

static void tls_session_ec_whole(void) { full_session(1, 0); }
static void tls_session_ec_bytewise(void) { full_session(1, 1); }
static void tls_session_ec_random(void) { full_session(1, 2); }
static void tls_session_rsa_random(void) { full_session(0, 2); }
static void tls_session_rsa_bytewise(void) { full_session(0, 1); }

static void tls_events_during_handshake(void)
{
	wire_reset(2);
	server_start(1, NULL, 0);
	CHECK_INT(client_start(ca1_pem, "broker.test", NOW_2030, NULL, NULL), TLS_OK);
	/* first the client must write its ClientHello */
	CHECK(T.events(T.ctx, 1) & IO_WANT_WRITE);
	/* application data is refused until the server is verified: send()
	 * drives the handshake instead */
	CHECK_INT(T.send(T.ctx, (const uint8_t *)"\x10\x0cMQTT", 6), 0);
	CHECK(W.c2s.len > 0 && W.c2s.buf[0] == 0x16); /* a handshake record */
	/* now it waits for the server: read interest, no write */
	while (T.send(T.ctx, (const uint8_t *)"\x10\x0cMQTT", 6) == 0 && W.c2s.len < sizeof W.c2s.buf)
		if (T.events(T.ctx, 1) == IO_WANT_READ)
			break;
	CHECK_INT(T.events(T.ctx, 1), IO_WANT_READ);
	CHECK_INT(handshake(), 1);
	/* every client record so far was handshake/CCS; no plaintext */
	for (size_t i = 0; i + 4 <= sent_log_len; i++)
		CHECK(memcmp(sent_log + i, "MQTT", 4) != 0);
	CHECK(T.events(T.ctx, 1) & IO_WANT_WRITE);
	CHECK_INT(T.send(T.ctx, (const uint8_t *)"\x10\x0cMQTT", 6), 6);
	server_pump();
	CHECK_MEM(srv_got, srv_got_len, "\x10\x0cMQTT", 6);
}

static void tls_mutual_ec(void)
{
	static pem_chain_t ch;
	static pem_key_t k;
	pem_anchors_t cas;
	ch = load_chain(cli_ec_pem, arena_b);
	k = load_key(cli_ec_key, arena_b + 8192);
	cas = load_anchors(ca1_pem, arena_c + 8192);
	wire_reset(2);
	server_start(1, cas.ta, cas.n);
	CHECK_INT(client_start(ca1_pem, "localhost", NOW_2030, &ch, &k), TLS_OK);
	CHECK_INT(handshake(), 1);
	CHECK(C.cert_requested);
	CHECK(C.sent_cert);
	exchange();
}

static void tls_mutual_rsa(void)
{
	static pem_chain_t ch;
	static pem_key_t k;
	pem_anchors_t cas;
	ch = load_chain(cli_rsa_pem, arena_b);
	k = load_key(cli_rsa_key, arena_b + 8192);
	cas = load_anchors(ca1_pem, arena_c + 8192);
	wire_reset(1);
	server_start(0, cas.ta, cas.n);
	CHECK_INT(client_start(ca2_pem, "broker.test", NOW_2030, &ch, &k), TLS_OK);
	CHECK_INT(handshake(), 1);
	CHECK(C.sent_cert);
	exchange();
}

/* a server asking for a certificate we do not have: BearSSL's server
 * gives up without an alert and the connection closes */
static void tls_cert_request_noted(void)
{
	pem_anchors_t cas = load_anchors(ca1_pem, arena_b);
	char msg[256];
	wire_reset(0);
	server_start(1, cas.ta, cas.n);
	CHECK_INT(client_start(ca1_pem, "localhost", NOW_2030, NULL, NULL), TLS_OK);
	CHECK_INT(handshake(), 0);
	CHECK_INT(br_ssl_engine_last_error(&S.eng), BR_ERR_NO_CLIENT_AUTH);
	CHECK(C.cert_requested);
	CHECK(!C.sent_cert);
	W.s2c.eof = 1;
	CHECK_INT(handshake(), IO_ETLS);
	CHECK_INT(tls_status(&C), TLS_E_CLIENT_CERT_REQUIRED);
	tls_describe(&C, msg, sizeof msg);
	CHECK_STR(msg, "handshake failed: peer requires a client certificate (it closed the connection)");
}

static void expect_failure(int ec, const char *anchors, const char *name,
	int64_t now, tls_status_t want, int br, const char *text)
{
	char msg[256];
	wire_reset(2);
	server_start(ec, NULL, 0);
	CHECK_INT(client_start(anchors, name, now, NULL, NULL), TLS_OK);
	CHECK_INT(handshake(), IO_ETLS);
	CHECK_INT(tls_status(&C), want);
	CHECK_INT(tls_br_error(&C), br);
	tls_describe(&C, msg, sizeof msg);
	if (strstr(msg, text) == NULL)
		unit_fail(__FILE__, __LINE__, "message \"%s\" lacks \"%s\"", msg, text);
	/* a dead transport stays dead */
	CHECK_INT(T.recv(T.ctx, big, 10), IO_ETLS);
	CHECK_INT(T.send(T.ctx, big, 10), IO_ETLS);
	CHECK_INT(T.events(T.ctx, 0), IO_WANT_READ | IO_WANT_WRITE);
}

static void tls_untrusted(void)
{
	expect_failure(1, ca2_pem, "localhost", NOW_2030, TLS_E_UNTRUSTED,
		BR_ERR_X509_NOT_TRUSTED, "certificate not signed by the given CA (BearSSL error 62)");
}

static void tls_name_mismatch(void)
{
	expect_failure(1, ca1_pem, "other.test", NOW_2030, TLS_E_NAME_MISMATCH,
		BR_ERR_X509_BAD_SERVER_NAME, "host name mismatch: expected other.test");
}

static void tls_expired(void)
{
	expect_failure(0, ca2_pem, "localhost", 2398377600 /* 2046 */, TLS_E_EXPIRED,
		BR_ERR_X509_EXPIRED, "certificate expired: the server's certificate was valid until 2045-01-01 00:00:00 UTC");
}

static void tls_not_yet_valid(void)
{
	expect_failure(1, ca1_pem, "localhost", 1704067200 /* 2024 */, TLS_E_NOT_YET_VALID,
		BR_ERR_X509_EXPIRED, "certificate not yet valid: the server's certificate is valid from 2025-01-01 00:00:00 UTC");
}

static void tls_self_signed(void)
{
	/* the CA's own certificate, presented as a server certificate, is
	 * self-signed; we trust another CA */
	static pem_chain_t ch;
	static pem_key_t k;
	char msg[256];
	ch = load_chain(ca2_pem, arena_c);
	k = load_key(srv_rsa_key, arena_d);  /* any RSA key: validation fails first */
	wire_reset(0);
	br_ssl_server_init_full_rsa(&S, ch.certs, ch.n, &k.k.rsa);
	br_ssl_engine_set_buffer(&S.eng, sbuf, sizeof sbuf, 1);
	br_ssl_engine_inject_entropy(&S.eng, "server entropy, fixed for tests", 32);
	CHECK(br_ssl_server_reset(&S));
	CHECK_INT(client_start(ca1_pem, "", NOW_2030, NULL, NULL), TLS_E_PARAM); /* empty name */
	/* no SAN: BearSSL matches the CN */
	CHECK_INT(client_start(ca1_pem, "dmqtt test CA 2", NOW_2030, NULL, NULL), TLS_OK);
	CHECK_INT(handshake(), IO_ETLS);
	CHECK_INT(tls_status(&C), TLS_E_SELF_SIGNED);
	CHECK_INT(tls_br_error(&C), BR_ERR_X509_NOT_TRUSTED);
	tls_describe(&C, msg, sizeof msg);
	CHECK_STR(msg, "certificate not signed by the given CA: the server's certificate is self-signed (BearSSL error 62)");
}

static void tls_not_tls(void)
{
	static const char http[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
	char msg[256];
	wire_reset(2);
	CHECK_INT(client_start(ca1_pem, "localhost", NOW_2030, NULL, NULL), TLS_OK);
	W.canned = http;
	W.canned_len = sizeof http - 1;
	CHECK_INT(handshake(), IO_ETLS);
	CHECK_INT(tls_status(&C), TLS_E_NOT_TLS);
	tls_describe(&C, msg, sizeof msg);
	CHECK(strstr(msg, "peer is not speaking TLS") == msg);
	CHECK(strstr(msg, "(BearSSL error 3)") != NULL);
}

static void tls_closed_in_handshake(void)
{
	char msg[256];
	wire_reset(0);
	CHECK_INT(client_start(ca1_pem, "localhost", NOW_2030, NULL, NULL), TLS_OK);
	W.s2c.eof = 1;
	CHECK_INT(handshake(), IO_ETLS);
	CHECK_INT(tls_status(&C), TLS_E_CLOSED_HANDSHAKE);
	tls_describe(&C, msg, sizeof msg);
	CHECK_STR(msg, "connection closed during handshake (nothing received: is the port a TLS listener?)");
}

static void tls_alert_from_server(void)
{
	/* a TLS alert record: fatal (2) handshake_failure (40) */
	static const char alert[] = "\x15\x03\x03\x00\x02\x02\x28";
	char msg[256];
	wire_reset(0);
	CHECK_INT(client_start(ca1_pem, "localhost", NOW_2030, NULL, NULL), TLS_OK);
	W.canned = alert;
	W.canned_len = 7;
	CHECK_INT(handshake(), IO_ETLS);
	CHECK_INT(tls_status(&C), TLS_E_ALERT);
	CHECK_INT(tls_br_error(&C), BR_ERR_RECV_FATAL_ALERT + 40);
	tls_describe(&C, msg, sizeof msg);
	CHECK_STR(msg, "handshake failed: peer sent a fatal alert handshake_failure (BearSSL error 296)");
}

/* the peer sent an alert and reset the connection while we were still
 * writing: the alert is read from the wire anyway */
static void tls_alert_then_reset(void)
{
	char msg[256];
	wire_reset(0);
	CHECK_INT(client_start(ca1_pem, "localhost", NOW_2030, NULL, NULL), TLS_OK);
	pipe_put(&W.s2c, (const unsigned char *)"\x15\x03\x03\x00\x02\x02\x46", 7);
	send_fails = 1;
	CHECK_INT(handshake(), IO_ETLS);
	CHECK_INT(tls_status(&C), TLS_E_ALERT);
	tls_describe(&C, msg, sizeof msg);
	CHECK_STR(msg, "handshake failed: peer sent a fatal alert protocol_version (BearSSL error 326)");
	/* no alert: just closed */
	wire_reset(0);
	CHECK_INT(client_start(ca1_pem, "localhost", NOW_2030, NULL, NULL), TLS_OK);
	send_fails = 1;
	CHECK_INT(handshake(), IO_ETLS);
	CHECK_INT(tls_status(&C), TLS_E_CLOSED_HANDSHAKE);
	CHECK_INT(tls_br_error(&C), 0);
}

/* a peer that ignores max_fragment_length after the handshake */
static void tls_record_too_large(void)
{
	unsigned char rx[64];
	size_t n;
	unsigned char *p;
	long r = 0;
	char msg[256];

	wire_reset(0);
	server_start(1, NULL, 0);
	CHECK_INT(client_start(ca1_pem, "localhost", NOW_2030, NULL, NULL), TLS_OK);
	CHECK_INT(handshake(), 1);
	/* one small record, then the server forgets the negotiated limit */
	p = br_ssl_engine_sendapp_buf(&S.eng, &n);
	CHECK(p != NULL && n >= 1);
	p[0] = 'x';
	br_ssl_engine_sendapp_ack(&S.eng, 1);
	br_ssl_engine_flush(&S.eng, 0);
	S.eng.max_frag_len = 16384;
	server_pump();
	CHECK_INT(T.recv(T.ctx, rx, sizeof rx), 1);
	p = br_ssl_engine_sendapp_buf(&S.eng, &n);
	CHECK(p != NULL && n > TLS_FRAG_LEN);
	memset(p, 'y', 2000);
	br_ssl_engine_sendapp_ack(&S.eng, 2000);
	br_ssl_engine_flush(&S.eng, 0);
	server_pump();
	for (int i = 0; i < 10 && r >= 0; i++)
		r = T.recv(T.ctx, rx, sizeof rx);
	CHECK_INT(r, IO_ETLS);
	CHECK_INT(tls_status(&C), TLS_E_RECORD_TOO_LARGE);
	CHECK_INT(tls_br_error(&C), BR_ERR_TOO_LARGE);
	tls_describe(&C, msg, sizeof msg);
	CHECK(strstr(msg, "max_fragment_length") != NULL);
}

static void tls_bad_config(void)
{
	static const uint8_t ent[32] = { 1 };
	tls_config_t cfg = { 0 };
	pem_anchors_t ta = load_anchors(ca1_pem, arena_a);
	pem_key_t k = load_key(cli_ec_key, arena_b);
	cfg.anchors = &ta;
	cfg.server_name = "localhost";
	cfg.entropy = ent;
	cfg.entropy_len = 32;
	CHECK_INT(tls_client_init(&C, &cfg), TLS_OK);
	cfg.server_name = "127.0.0.1";
	CHECK_INT(tls_client_init(&C, &cfg), TLS_E_PARAM);
	cfg.server_name = "::1";
	CHECK_INT(tls_client_init(&C, &cfg), TLS_E_PARAM);
	cfg.server_name = "localhost";
	cfg.entropy_len = 16;
	CHECK_INT(tls_client_init(&C, &cfg), TLS_E_PARAM);
	cfg.entropy_len = 32;
	cfg.key = &k; /* key without chain */
	CHECK_INT(tls_client_init(&C, &cfg), TLS_E_PARAM);
	cfg.key = NULL;
	ta.n = 0;
	CHECK_INT(tls_client_init(&C, &cfg), TLS_E_PARAM);
	CHECK_STR(tls_strerror(TLS_E_CLIENT_CERT_REQUIRED),
		"handshake failed: peer requires a client certificate");
}

/* the armour reader: blocks, labels, bytes, and what it refuses */
static int armour_all(const char *t, size_t *nblocks, size_t *last_line)
{
	size_t pos = 0;
	pem_armour_t a;
	int r;

	*nblocks = 0;
	while ((r = pem_armour_next(t, strlen(t), &pos, &a)) == 1)
		(*nblocks)++;
	*last_line = a.line;
	return r;
}

static void pem_armour_reads(void)
{
	char buf[4096];
	uint8_t der[2048];
	size_t pos = 0, n, nb, line;
	pem_armour_t a;

	/* two CAs with noise between, one with CRLF lines */
	snprintf(buf, sizeof buf, "# bundle\n%s\nsome text\n%s", ca1_pem, ca2_pem);
	CHECK_INT(pem_armour_next(buf, strlen(buf), &pos, &a), 1);
	CHECK_MEM(a.label, a.label_len, "CERTIFICATE", 11);
	CHECK_INT(a.line, 2);
	CHECK_INT(pem_armour_decode(&a, der, sizeof der, &n), 0);
	CHECK(n > 300 && der[0] == 0x30);
	CHECK_INT(pem_armour_next(buf, strlen(buf), &pos, &a), 1);
	CHECK_INT(pem_armour_decode(&a, der, 10, &n), -2);
	CHECK_INT(pem_armour_next(buf, strlen(buf), &pos, &a), 0);
	CHECK_INT(pos, strlen(buf));

	CHECK_INT(armour_all("-----BEGIN CERTIFICATE-----\r\nQUJD\r\n-----END CERTIFICATE-----  \r\n",
		&nb, &line), 0);
	CHECK_INT(nb, 1);
	CHECK_INT(armour_all("no blocks at all\n", &nb, &line), 0);
	CHECK_INT(nb, 0);
	/* refused: no END, another label's END, a mangled banner, dashes
	 * outside a block, an END outside a block */
	CHECK_INT(armour_all("-----BEGIN CERTIFICATE-----\nQUJD\n", &nb, &line), -1);
	CHECK_INT(line, 1);
	CHECK_INT(armour_all("x\n-----BEGIN CERTIFICATE-----\nQUJD\n-----END X509 CRL-----\n",
		&nb, &line), -1);
	CHECK_INT(line, 2);
	CHECK_INT(armour_all("-----Begin CERTIFICATE-----\nQUJD\n", &nb, &line), -1);
	CHECK_INT(armour_all("-----BEGIN CERTIFICATE----\nQUJD\n", &nb, &line), -1);
	CHECK_INT(armour_all("-----BEGIN  CERTIFICATE-----\nQUJD\n", &nb, &line), -1);
	CHECK_INT(armour_all("-----BEGIN CERTIFICATE----- \nQUJD\n-----END CERTIFICATE-----\n",
		&nb, &line), -1);
	CHECK_INT(armour_all("-----BEGIN Certificate-----\nQUJD\n-----END Certificate-----\n",
		&nb, &line), -1);
	CHECK_INT(armour_all("-----\n", &nb, &line), -1);
	CHECK_INT(armour_all("-----END CERTIFICATE-----\n", &nb, &line), -1);
	/* base64 inside: groups across lines, spaces, headers are refused */
	pos = 0;
	CHECK_INT(pem_armour_next("-----BEGIN A-----\nQU\nJD\n-----END A-----\n", strlen("-----BEGIN A-----\nQU\nJD\n-----END A-----\n"), &pos, &a), 1);
	CHECK_INT(pem_armour_decode(&a, der, sizeof der, &n), -1);
	pos = 0;
	CHECK_INT(pem_armour_next("-----BEGIN A-----\nQU JD\n-----END A-----\n", strlen("-----BEGIN A-----\nQU JD\n-----END A-----\n"), &pos, &a), 1);
	CHECK_INT(pem_armour_decode(&a, der, sizeof der, &n), -1);
	pos = 0;
	CHECK_INT(pem_armour_next("-----BEGIN A-----\nQQ==\n\r\n-----END A-----\n",
		strlen("-----BEGIN A-----\nQQ==\n\r\n-----END A-----\n"), &pos, &a), 1);
	CHECK_INT(pem_armour_decode(&a, der, sizeof der, &n), -1); /* a blank line */
	pos = 0;
	CHECK_INT(pem_armour_next("-----BEGIN A-----\nQUI=\n-----END A-----\n", strlen("-----BEGIN A-----\nQUI=\n-----END A-----\n"), &pos, &a), 1);
	CHECK_INT(pem_armour_decode(&a, der, sizeof der, &n), 0);
	CHECK_MEM(der, n, "AB", 2);
}

UNIT_SUITE(tls,
	UNIT_CASE(pem_anchors_two_cas), UNIT_CASE(pem_anchors_odd_arena),
	UNIT_CASE(pem_anchors_crlf_and_noise), UNIT_CASE(pem_anchors_no_cert),
	UNIT_CASE(pem_anchors_truncated_cert), UNIT_CASE(pem_anchors_unterminated),
	UNIT_CASE(pem_anchors_garbage_der), UNIT_CASE(pem_trailing_bytes),
	UNIT_CASE(pem_chain_two), UNIT_CASE(pem_armour_reads),
	UNIT_CASE(pem_keys), UNIT_CASE(pem_key_errors), UNIT_CASE(pem_key_match),
	UNIT_CASE(tls_certinfo_reads), UNIT_CASE(tls_session_ec_whole),
	UNIT_CASE(tls_session_ec_bytewise), UNIT_CASE(tls_session_ec_random),
	UNIT_CASE(tls_session_rsa_random), UNIT_CASE(tls_session_rsa_bytewise),
	UNIT_CASE(tls_events_during_handshake), UNIT_CASE(tls_mutual_ec),
	UNIT_CASE(tls_mutual_rsa), UNIT_CASE(tls_cert_request_noted),
	UNIT_CASE(tls_untrusted), UNIT_CASE(tls_name_mismatch),
	UNIT_CASE(tls_expired), UNIT_CASE(tls_not_yet_valid),
	UNIT_CASE(tls_self_signed), UNIT_CASE(tls_not_tls),
	UNIT_CASE(tls_closed_in_handshake), UNIT_CASE(tls_alert_from_server),
	UNIT_CASE(tls_alert_then_reset), UNIT_CASE(tls_record_too_large),
	UNIT_CASE(tls_bad_config))
