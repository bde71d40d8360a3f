/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * The header fields of the language: the table built from the ABI's field
 * list (include/xfsm/abi.h, XFSM_FIELD_LIST), lookups by name, and the
 * source/destination pairs a symmetric key swaps.
 */
#include <string.h>

#include "lang.h"

const struct xfsm_lang_field lang_field_table[] = {
#define X(n, w, nw, b) { n, w, nw, b },
	XFSM_FIELD_LIST(X)
#undef X
};
const unsigned int lang_n_fields = sizeof(lang_field_table) / sizeof(lang_field_table[0]);

const struct xfsm_lang_field *xfsm_lang_fields(unsigned int *n)
{
	if (n)
		*n = lang_n_fields;
	return lang_field_table;
}

int xfsm_lang_field_find(const char *name, size_t len)
{
	for (unsigned int i = 0; i < lang_n_fields; i++)
		if (strlen(lang_field_table[i].name) == len &&
		    !memcmp(lang_field_table[i].name, name, len))
			return (int)i;
	return -1;
}

int field_sym_partner(int field)
{
	static const char *const pairs[][2] = {
		{ "eth.src", "eth.dst" }, { "ip.src", "ip.dst" },
		{ "ip6.src", "ip6.dst" }, { "l4.sport", "l4.dport" },
		{ "tcp.sport", "tcp.dport" }, { "udp.sport", "udp.dport" },
		{ "arp.spa", "arp.tpa" },
	};
	const char *n = lang_field_table[field].name;

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		if (!strcmp(n, pairs[i][0]))
			return xfsm_lang_field_find(pairs[i][1], strlen(pairs[i][1]));
		if (!strcmp(n, pairs[i][1]))
			return xfsm_lang_field_find(pairs[i][0], strlen(pairs[i][0]));
	}
	return field;
}

lang_u128 field_max(int f)
{
	unsigned int bits = lang_field_table[f].bits;

	return bits >= 128 ? ~(lang_u128)0 : (((lang_u128)1 << bits) - 1);
}
