int dummy_dispatch;
