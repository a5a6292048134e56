// The minimal YARP reverse proxy from the YARP getting-started guide: routes and clusters from
// configuration (appsettings.json, overridden on the command line by bench/run.py).
var builder = WebApplication.CreateBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddReverseProxy().LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"));
var app = builder.Build();
app.MapReverseProxy();
app.Run();
