"""The one business of a deployment (`BusinessSettings`, a singleton) becomes the first row of `Business`: same
table row, same id, its name kept as the English name. The rest of the marketplace follows in 0004-0006."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_business_max_upcoming_per_customer")]

    operations = [
        migrations.RenameModel("BusinessSettings", "Business"),
        migrations.RenameField("business", "name", "name_en"),
        migrations.AddField("business", "slug", models.SlugField(max_length=60, default="", blank=True)),
    ]
