variable "name" {}
variable "subnet_id" {}
variable "sg_ids" {}

resource "aws_instance" "this" {
  ami                    = "ami-0123456789abcdef0"
  instance_type          = "t3.small"
  subnet_id              = var.subnet_id
  vpc_security_group_ids = var.sg_ids
  tags                   = { Name = var.name }
}

output "instance_id" {
  value = aws_instance.this.id
}
