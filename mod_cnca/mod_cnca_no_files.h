/* The API and the sandbox answer from code and the database, never from a
 * file: their requests skip httpd's walk of the file system (a stat of
 * each path segment and a look for .htaccess in each folder, about 3% of
 * an enrollment's CPU). Shared by mod_cnca and mod_cnca_sandbox, the way
 * mod_proxy does it: translate_name, which still sees the <Location>
 * that sets the handler, names the request "HANDLER:URI" instead of a
 * file (so Alias leaves it alone), and map_to_storage, which no longer
 * sees that <Location>, finds that name and skips the walk. httpd walks
 * the <Location> sections again afterwards: their Require lines apply. */
#ifndef MOD_CNCA_NO_FILES_H
#define MOD_CNCA_NO_FILES_H

#include <string.h>

#include <apr_strings.h>
#include <http_core.h>
#include <http_request.h>

/* translate_name: OK with r->filename "handler:URI" when the <Location>
 * of r sets this SetHandler; else DECLINED. */
static inline int cnca_translate_no_files(request_rec *r, const char *handler)
{
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    const char *err = NULL, *name;

    if (!core || !core->expr_handler || !r->uri || r->uri[0] != '/') {
        return DECLINED;
    }
    name = ap_expr_str_exec(r, core->expr_handler, &err);
    if (err || !name || strcmp(name, handler)) {
        return DECLINED;
    }
    r->filename = apr_pstrcat(r->pool, handler, ":", r->uri, NULL);
    return OK;
}

/* map_to_storage: OK (no file-system walk) for a request named above. */
static inline int cnca_map_no_files(request_rec *r, const char *handler)
{
    apr_size_t n = strlen(handler);
    return r->filename && !strncmp(r->filename, handler, n) && r->filename[n] == ':' ? OK
                                                                                     : DECLINED;
}

/* Registers the two for a module: translate_name after mod_rewrite, so
 * that its server-wide rules (a redirect to https, a [F]) still apply to
 * these URLs as they did before (when both are FIRST, the module loaded
 * first runs first, and Debian loads cnca before rewrite), and before
 * mod_alias; map_to_storage first. */
static inline void cnca_no_files_hooks(int (*translate)(request_rec *), int (*map)(request_rec *))
{
    static const char *const after_rewrite[] = {"mod_rewrite.c", NULL};
    static const char *const before_alias[] = {"mod_alias.c", NULL};

    ap_hook_translate_name(translate, after_rewrite, before_alias, APR_HOOK_FIRST);
    ap_hook_map_to_storage(map, NULL, NULL, APR_HOOK_FIRST);
}

#endif
