"""Exporters: any topology (the seed, a what-if, a fixed import) as Terraform or AWS CLI commands.

    print(tl.to_terraform(topo))                 # one readable main.tf, newer-style rule resources
    print(tl.terraform_diff(before, after))      # what the fix changes, as a unified diff of main.tf
    print(tl.to_aws_cli(topo))                   # the same as `aws` commands (bash)
"""

from __future__ import annotations

from .awscli import to_aws_cli
from .terraform import terraform_diff, to_terraform, write_terraform

__all__ = ["to_terraform", "write_terraform", "terraform_diff", "to_aws_cli"]
