# The network comes from the public registry module terraform-aws-modules/vpc/aws, which
# tierlab cannot fetch offline: reading these .tf files alone finds no VPC. `show.json` is the
# output of `terraform show -json` after apply (Terraform's documented JSON format): import
# that instead and every resource, the module's included, is there.
module "vpc" {
  source  = "./vpc"

  name             = "blog"
  cidr             = "10.8.0.0/16"
  azs              = ["ap-southeast-2a", "ap-southeast-2b"]
  public_subnets   = ["10.8.1.0/24", "10.8.2.0/24"]
  private_subnets  = ["10.8.11.0/24", "10.8.12.0/24"]
  database_subnets = ["10.8.21.0/24", "10.8.22.0/24"]

  enable_nat_gateway           = true
  single_nat_gateway           = true
  create_database_subnet_group = true
}

resource "aws_security_group" "alb" {
  name   = "blog-alb"
  vpc_id = module.vpc.vpc_id
  ingress {
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    from_port       = 8080
    to_port         = 8080
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
}

resource "aws_security_group" "app" {
  name   = "blog-app"
  vpc_id = module.vpc.vpc_id
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group_rule" "app_from_alb" {
  type                     = "ingress"
  security_group_id        = aws_security_group.app.id
  from_port                = 8080
  to_port                  = 8080
  protocol                 = "tcp"
  source_security_group_id = aws_security_group.alb.id
}

resource "aws_security_group" "db" {
  name   = "blog-db"
  vpc_id = module.vpc.vpc_id
  ingress {
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [aws_security_group.app.id]
  }
}

resource "aws_instance" "app" {
  count                  = 2
  ami                    = "ami-0abc"
  instance_type          = "t3.small"
  subnet_id              = module.vpc.private_subnets[count.index]
  vpc_security_group_ids = [aws_security_group.app.id]
  tags                   = { Name = "blog-app-${count.index + 1}" }
}

resource "aws_lb" "blog" {
  name            = "blog"
  subnets         = module.vpc.public_subnets
  security_groups = [aws_security_group.alb.id]
}

resource "aws_lb_target_group" "app" {
  name     = "blog-app"
  port     = 8080
  protocol = "HTTP"
  vpc_id   = module.vpc.vpc_id
}

resource "aws_lb_target_group_attachment" "app" {
  count            = 2
  target_group_arn = aws_lb_target_group.app.arn
  target_id        = aws_instance.app[count.index].id
}

resource "aws_lb_listener" "https" {
  load_balancer_arn = aws_lb.blog.arn
  port              = 443
  protocol          = "HTTPS"
  certificate_arn   = "arn:aws:acm:ap-southeast-2:123456789012:certificate/b"
  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}

resource "aws_db_instance" "blog" {
  identifier             = "blog"
  engine                 = "postgres"
  instance_class         = "db.t3.micro"
  allocated_storage      = 20
  multi_az               = true
  db_subnet_group_name   = module.vpc.database_subnet_group_name
  vpc_security_group_ids = [aws_security_group.db.id]
}
