/* hull vmm [flags] -- CMD ARGS: boot a microVM and run CMD in it, in the
 * foreground (microvm/vmm_cli.c). */
#include "config.h"
#include "cmd/cmd.h"
#include "microvm/vmm.h"

int cmd_vmm(const struct cmd_globals *g, int argc, char **argv, struct rt_err *err)
{
	(void)g;
	return vmm_cli(argc, argv, err);
}
