#include "httpd.h"
#include "http_config.h"
#include "cnca_log.h"
static void reg(apr_pool_t *p) { (void)p; cnca_log_set_level(CNCA_LOG_INFO); }
module AP_MODULE_DECLARE_DATA cnca_sandbox_module = { STANDARD20_MODULE_STUFF, NULL, NULL, NULL, NULL, NULL, reg };
