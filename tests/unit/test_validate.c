#include <criterion/criterion.h>
/* placeholder: being written */
Test(placeholder, validate) { cr_assert(1); }
