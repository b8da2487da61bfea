from tests.integration.runtime import fixtures

busybox_rootfs = fixtures.busybox_rootfs
linux_rt = fixtures.linux_rt
runc_rt = fixtures.runc_rt
