#include <criterion/criterion.h>
/* placeholder: being written */
Test(placeholder, mount_opts) { cr_assert(1); }
