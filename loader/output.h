/* SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) */
/*
 * One printing path for text and JSON, in the manner of iproute2's
 * print_*(PRINT_ANY, ...): each call names the JSON key and the text
 * format; a NULL format prints nothing in text mode, out_text() prints
 * only in text mode, objects and arrays only exist in JSON.
 */
#ifndef XFSM_LOADER_OUTPUT_H
#define XFSM_LOADER_OUTPUT_H

#include <stdbool.h>

void out_init(bool json);
void out_finish(void);
void out_obj_open(const char *key);
void out_obj_close(void);
void out_arr_open(const char *key);
void out_arr_close(void);
void out_text(const char *s);
void out_str(const char *key, const char *fmt, const char *v);
void out_null(const char *key);
void out_json_string(const char *s);
void out_uint(const char *key, const char *fmt, unsigned long long v);
void out_int(const char *key, const char *fmt, long long v);
void out_bool(const char *key, const char *fmt, bool v);

#endif
