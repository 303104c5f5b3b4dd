/* hull's static guest init, embedded so the VMM needs no file beside
 * itself (a VM-mode container's init execs it from inside the jail). */
	.section .rodata
	.balign 16
	.globl hull_guest_init, hull_guest_init_end
hull_guest_init:
	.incbin HULL_INIT_PATH
hull_guest_init_end:
	.section .note.GNU-stack,"",@progbits
