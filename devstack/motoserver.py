"""moto's server with devstack.moto_patches applied (see there why)."""
import sys

from devstack import moto_patches


def main():
    moto_patches.apply()
    from moto.server import main as moto_main
    moto_main(sys.argv[1:])


if __name__ == "__main__":
    main()
