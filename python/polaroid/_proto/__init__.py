"""Generated protocol stubs (scripts/gen_proto_py.sh); do not edit."""
